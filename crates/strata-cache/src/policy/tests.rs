use http::{HeaderMap, HeaderValue, StatusCode};

use super::*;

const NOW: u64 = 1_700_000_000_000;

fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(*n, HeaderValue::from_str(v).expect("header"));
    }
    h
}

fn req() -> RequestFacts {
    RequestFacts {
        get: true,
        authorization: false,
        cookie: false,
        request_time: NOW,
    }
}

fn limits() -> Limits {
    Limits {
        max_vary_fields: 8,
        max_object_bytes: 1024,
        default_ttl: None,
    }
}

fn decide(status: u16, headers: &[(&'static str, &str)]) -> Result<Storable, NotStored> {
    storable(
        req(),
        StatusCode::from_u16(status).expect("status"),
        &h(headers),
        NOW,
        &limits(),
    )
}

fn date(ms: u64) -> String {
    http_date(ms)
}

#[test]
fn freshness_prefers_s_maxage_then_max_age_then_expires_then_heuristic() {
    let d = date(NOW);
    let expires = date(NOW + 300_000);
    let modified = date(NOW - 1_000_000_000);
    let all = [
        ("date", d.as_str()),
        ("cache-control", "max-age=60, s-maxage=120"),
        ("expires", expires.as_str()),
        ("last-modified", modified.as_str()),
    ];
    assert_eq!(decide(200, &all).expect("stored").lifetime, 120_000);
    assert_eq!(
        decide(200, &[all[0], ("cache-control", "max-age=60"), all[2]])
            .expect("stored")
            .lifetime,
        60_000
    );
    assert_eq!(
        decide(200, &[all[0], all[2], all[3]])
            .expect("stored")
            .lifetime,
        300_000
    );
    assert_eq!(
        decide(200, &[all[0], all[3]]).expect("stored").lifetime,
        100_000_000
    );
}

#[test]
fn an_invalid_expires_is_already_stale() {
    let d = date(NOW);
    assert_eq!(
        decide(200, &[("date", &d), ("expires", "0")])
            .expect("stored")
            .lifetime,
        0
    );
    let later = date(NOW + 5000);
    let other = date(NOW + 9000);
    let two = decide(
        200,
        &[("date", &d), ("expires", &later), ("expires", &other)],
    );
    assert_eq!(
        two.expect("stored").lifetime,
        0,
        "two different Expires: stale"
    );
}

#[test]
fn heuristics_only_for_heuristically_cacheable_statuses() {
    let d = date(NOW);
    let modified = date(NOW - 100_000);
    let headers = [("date", d.as_str()), ("last-modified", modified.as_str())];
    assert_eq!(decide(404, &headers).expect("stored").lifetime, 10_000);
    assert!(matches!(decide(302, &headers), Err(NotStored::NoFreshness)));
    assert!(matches!(decide(500, &headers), Err(NotStored::NoFreshness)));
    assert!(matches!(
        decide(200, &[("date", d.as_str())]),
        Err(NotStored::NoFreshness)
    ));
    // Explicit freshness makes any final status storable.
    assert_eq!(
        decide(302, &[("cache-control", "max-age=5")])
            .expect("stored")
            .lifetime,
        5000
    );
}

#[test]
fn the_default_ttl_applies_only_where_nothing_else_does() {
    let mut l = limits();
    l.default_ttl = Some(7000);
    let s = storable(req(), StatusCode::OK, &h(&[]), NOW, &l).expect("stored");
    assert_eq!(s.lifetime, 7000);
    let s = storable(
        req(),
        StatusCode::OK,
        &h(&[("cache-control", "max-age=1")]),
        NOW,
        &l,
    );
    assert_eq!(s.expect("stored").lifetime, 1000);
}

#[test]
fn refusals() {
    let cc = ("cache-control", "max-age=60");
    type Case<'a> = (&'a [(&'static str, &'a str)], u16, NotStored);
    let table: &[Case<'_>] = &[
        (
            &[("cache-control", "max-age=60, no-store")],
            200,
            NotStored::NoStore,
        ),
        (
            &[("cache-control", "max-age=60, private")],
            200,
            NotStored::Private,
        ),
        (&[cc, ("set-cookie", "a=b")], 200, NotStored::SetCookie),
        (&[cc, ("vary", "*")], 200, NotStored::VaryStar),
        (&[cc, ("vary", "accept, *")], 200, NotStored::VaryStar),
        (&[cc, ("vary", "bad name")], 200, NotStored::VaryStar),
        (&[cc, ("content-length", "4096")], 200, NotStored::TooLarge),
        (&[cc], 206, NotStored::Status),
        (&[cc], 304, NotStored::Status),
    ];
    for (headers, status, why) in table {
        assert_eq!(decide(*status, headers).err(), Some(*why), "{headers:?}");
    }
    let many: String = (0..300).map(|i| format!("x-f{i}, ")).collect();
    assert_eq!(
        decide(200, &[cc, ("vary", &many)]).err(),
        Some(NotStored::VaryTooMany)
    );
    let mut head = req();
    head.get = false;
    assert_eq!(
        storable(head, StatusCode::OK, &h(&[cc]), NOW, &limits()).err(),
        Some(NotStored::Method)
    );
}

#[test]
fn qualified_private_set_cookie_stores_without_the_field() {
    let s = decide(
        200,
        &[
            ("cache-control", "max-age=60, private=\"set-cookie\""),
            ("set-cookie", "a=b"),
        ],
    );
    assert_eq!(s.expect("stored").strip, ["set-cookie"]);
}

#[test]
fn credentials_need_a_shareable_response() {
    let mut auth = req();
    auth.authorization = true;
    let mut cookie = req();
    cookie.cookie = true;
    let check = |r: RequestFacts, cc: &str| {
        storable(
            r,
            StatusCode::OK,
            &h(&[("cache-control", cc)]),
            NOW,
            &limits(),
        )
    };
    assert_eq!(
        check(auth, "max-age=60").err(),
        Some(NotStored::Authorization)
    );
    assert!(check(auth, "max-age=60, public").is_ok());
    assert!(check(auth, "s-maxage=60").is_ok());
    assert!(check(auth, "max-age=60, must-revalidate").is_ok());
    assert_eq!(check(cookie, "max-age=60").err(), Some(NotStored::Cookie));
    assert_eq!(
        check(cookie, "max-age=60, must-revalidate").err(),
        Some(NotStored::Cookie)
    );
    assert!(check(cookie, "max-age=60, public").is_ok());
}

#[test]
fn age_follows_rfc_9111_section_4_2_3() {
    // Sent at NOW, answered 2 s later, Date 5 s before that, Age 1.
    let d = date(NOW - 3000);
    let mut r = req();
    r.request_time = NOW;
    let s = storable(
        r,
        StatusCode::OK,
        &h(&[("date", &d), ("age", "1"), ("cache-control", "max-age=60")]),
        NOW + 2000,
        &limits(),
    )
    .expect("stored");
    // apparent age 5 s beats corrected Age 1 s + 2 s delay.
    assert_eq!(s.initial_age, 5000);
    let s = storable(
        r,
        StatusCode::OK,
        &h(&[
            ("date", &date(NOW + 2000)),
            ("age", "10"),
            ("cache-control", "max-age=60"),
        ]),
        NOW + 2000,
        &limits(),
    )
    .expect("stored");
    assert_eq!(s.initial_age, 12_000);
}

#[test]
fn vary_names_are_normalised_and_deduplicated() {
    let names = vary_names(
        &h(&[
            ("vary", "Accept-Encoding, accept-language"),
            ("vary", "ACCEPT-ENCODING"),
        ]),
        8,
    )
    .expect("names");
    let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["accept-encoding", "accept-language"]);
}

#[test]
fn hop_by_hop_fields_are_not_stored() {
    let stored = stored_headers(
        &h(&[
            ("connection", "x-private, close"),
            ("x-private", "1"),
            ("keep-alive", "5"),
            ("transfer-encoding", "chunked"),
            ("age", "3"),
            ("etag", "\"a\""),
            ("surrogate-key", "a b"),
        ]),
        &["surrogate-key"],
    );
    let names: Vec<&str> = stored.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["etag"]);
}
