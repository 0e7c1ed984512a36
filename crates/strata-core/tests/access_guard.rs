//! `AccessGuard`: the allow-list and bearer token of internal endpoints.

use std::net::SocketAddr;

use strata_core::guard::{AccessGuard, AccessRefusal, GuardRule};
use strata_core::{ClientIp, ConfigError, TrustedProxies};

const PRIVATE: [u8; 4] = [10, 1, 2, 3];
const PUBLIC: [u8; 4] = [203, 0, 113, 9];

fn request(peer: Option<[u8; 4]>, authorization: Option<&str>) -> http::Request<()> {
    let mut builder = http::Request::builder();
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    if let Some(peer) = peer {
        builder = builder.extension(SocketAddr::from((peer, 4000)));
    }
    builder.body(()).expect("valid request")
}

fn both(rule: GuardRule) -> AccessGuard {
    AccessGuard::builder()
        .allow_ips(TrustedProxies::private_networks())
        .bearer_token("s3cret")
        .rule(rule)
        .build()
        .expect("valid guard")
}

#[test]
fn by_default_both_checks_must_pass() {
    let guard = both(GuardRule::All);
    let ok = Some("Bearer s3cret");
    assert_eq!(guard.check(&request(Some(PRIVATE), ok)), Ok(()));
    assert_eq!(
        guard.check(&request(Some(PUBLIC), ok)),
        Err(AccessRefusal::Address)
    );
    assert_eq!(
        guard.check(&request(Some(PRIVATE), None)),
        Err(AccessRefusal::Token)
    );
}

#[test]
fn the_any_rule_admits_either_check() {
    let guard = both(GuardRule::Any);
    assert_eq!(guard.check(&request(Some(PRIVATE), None)), Ok(()));
    assert_eq!(
        guard.check(&request(Some(PUBLIC), Some("Bearer s3cret"))),
        Ok(())
    );
    // Both fail: the token is what the client can present.
    assert_eq!(
        guard.check(&request(Some(PUBLIC), Some("Bearer nope"))),
        Err(AccessRefusal::Token)
    );
}

#[test]
fn the_token_is_compared_exactly() {
    let guard = AccessGuard::builder()
        .bearer_token("t0ken")
        .build()
        .expect("valid guard");
    for good in ["Bearer t0ken", "bearer t0ken", "BEARER t0ken"] {
        assert_eq!(guard.check(&request(None, Some(good))), Ok(()), "{good}");
    }
    for bad in [
        "Bearer t0ke",
        "Bearer t0kenX",
        "Bearer T0KEN",
        "Basic dDBrZW4=",
        "t0ken",
        "Bearer",
        "",
    ] {
        assert_eq!(
            guard.check(&request(None, Some(bad))),
            Err(AccessRefusal::Token),
            "{bad}"
        );
    }
    assert_eq!(guard.check(&request(None, None)), Err(AccessRefusal::Token));
}

#[test]
fn the_resolved_client_ip_wins_over_the_peer() {
    let guard = AccessGuard::builder()
        .allow_ips("203.0.113.0/24".parse().expect("valid list"))
        .build()
        .expect("valid guard");
    // Through a proxy at 10.1.2.3 that resolved the client 203.0.113.9.
    let mut proxied = request(Some(PRIVATE), None);
    proxied
        .extensions_mut()
        .insert(ClientIp::from_peer(PUBLIC.into()));
    assert_eq!(guard.check(&proxied), Ok(()));
    // The proxy's own address is not the client's.
    assert_eq!(
        guard.check(&request(Some(PRIVATE), None)),
        Err(AccessRefusal::Address)
    );
}

#[test]
fn an_unresolved_client_is_refused_even_by_an_allow_all_list() {
    let guard = AccessGuard::builder()
        .allow_ips("0.0.0.0/0, ::/0".parse().expect("valid list"))
        .build()
        .expect("valid guard");
    let mut request = request(Some(PRIVATE), None);
    request.extensions_mut().insert(ClientIp::unresolved());
    assert_eq!(guard.check(&request), Err(AccessRefusal::Address));
}

#[test]
fn a_request_without_address_is_refused_and_warned_about_once() {
    let (logs, _default) = strata_testkit::logs::capture(tracing::Level::INFO);
    let guard = AccessGuard::builder()
        .allow_ips(TrustedProxies::private_networks())
        .build()
        .expect("valid guard");
    for _ in 0..3 {
        assert_eq!(
            guard.check(&request(None, None)),
            Err(AccessRefusal::Address)
        );
    }
    let text = logs.text();
    assert_eq!(text.matches("WARN").count(), 1, "{text}");
    assert!(
        text.contains("into_make_service_with_connect_info"),
        "{text}"
    );
}

#[test]
fn invalid_settings_are_refused_by_name() {
    for token in ["", "two words", "ünicode", &"x".repeat(4097)] {
        let result = AccessGuard::builder().bearer_token(token).build();
        assert!(
            matches!(
                result,
                Err(ConfigError::Invalid {
                    setting: "bearer_token",
                    ..
                })
            ),
            "{result:?}"
        );
    }
    let nothing = AccessGuard::builder().build();
    assert!(
        matches!(
            nothing,
            Err(ConfigError::Invalid {
                setting: "allow_ips",
                ..
            })
        ),
        "{nothing:?}"
    );
    let empty = AccessGuard::builder()
        .allow_ips(TrustedProxies::none())
        .bearer_token("ok")
        .build();
    assert!(
        matches!(
            empty,
            Err(ConfigError::Invalid {
                setting: "allow_ips",
                ..
            })
        ),
        "{empty:?}"
    );
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let builder = AccessGuard::builder().bearer_token("s3cret");
    assert!(!format!("{builder:?}").contains("s3cret"));
    let guard = builder.build().expect("valid guard");
    assert!(!format!("{guard:?}").contains("s3cret"));
}
