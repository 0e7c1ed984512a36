//! A `KeyBy::client_ip()` rule on a server that records no peer address:
//! warned about once per process, counted every time. Its own test binary
//! (own process), so no other test has logged the warning before.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_rate_limit::{
    KeyBy, MemoryClock, MemoryStore, MissingKey, Policy, Quota, RateLimitLayer, Rule,
};
use strata_testkit::get;
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::from("ok")))
}

fn layer(
    name: &str,
    missing_key: MissingKey,
) -> RateLimitLayer<strata_rate_limit::DefaultRejection> {
    let builder = RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new(name.to_owned(), Quota::per_minute(1)),
    ))
    .memory(MemoryStore::new().clock(MemoryClock::Tokio))
    .missing_key(missing_key);
    #[cfg(feature = "prometheus")]
    let builder = builder.metrics(METRICS.with(Clone::clone));
    builder.build().expect("valid")
}

#[cfg(feature = "prometheus")]
thread_local! {
    static REGISTRY: prometheus::Registry = prometheus::Registry::new();
    static METRICS: strata_rate_limit::RateLimitMetrics =
        REGISTRY.with(|r| strata_rate_limit::RateLimitMetrics::register(r).expect("register"));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn no_peer_address_is_warned_about_once_and_counted_every_time() {
    let (captured, _guard) = strata_testkit::logs::capture(tracing::Level::WARN);

    let allow = ServiceBuilder::new()
        .layer(layer("per-ip", MissingKey::Allow))
        .service_fn(ok);
    for _ in 0..3 {
        let response = allow.clone().oneshot(get("/")).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "passes without a limit");
    }
    let shared = ServiceBuilder::new()
        .layer(layer("login", MissingKey::Shared))
        .service_fn(ok);
    for _ in 0..2 {
        shared.clone().oneshot(get("/")).await.expect("infallible");
    }

    let lines = captured.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let warning = &lines[0];
    assert!(warning.contains("WARN"), "{warning}");
    for fix in [
        "into_make_service_with_connect_info::<SocketAddr>()",
        "`axum` feature",
        "ResolveClientIpLayer",
        "strata_rate_limit_missing_key_total",
    ] {
        assert!(warning.contains(fix), "{fix} not named: {warning}");
    }

    #[cfg(feature = "prometheus")]
    {
        use prometheus::Encoder as _;
        let text = REGISTRY.with(|r| {
            let mut out = Vec::new();
            prometheus::TextEncoder::new()
                .encode(&r.gather(), &mut out)
                .expect("encode");
            String::from_utf8(out).expect("utf-8")
        });
        for series in [
            r#"strata_rate_limit_missing_key_total{rule="per-ip"} 3"#,
            r#"strata_rate_limit_missing_key_total{rule="login"} 2"#,
        ] {
            assert!(text.contains(series), "{series} missing from\n{text}");
        }
    }
}
