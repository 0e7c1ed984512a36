//! RFC 9111 behaviour through the public API, on the memory store, with a
//! real inner service and tokio's paused clock for freshness.

mod common;

use std::time::Duration;

use common::{Origin, get, get_with, req, response, send, service};
use http::{Method, StatusCode};
use strata_cache::{CacheLayer, MemoryStore};

fn advance(secs: u64) -> impl Future<Output = ()> {
    tokio::time::advance(Duration::from_secs(secs))
}

const URL: &str = "http://example.com/items?page=1";

#[tokio::test(start_paused = true)]
async fn a_second_request_is_a_hit_with_age_and_cache_status() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    let first = get(&svc, URL).await;
    assert_eq!(first.body, "body-1");
    assert_eq!(
        first.cache_status(),
        "strata; fwd=uri-miss; fwd-status=200; stored"
    );
    assert_eq!(
        first.header("age"),
        "",
        "a response from the origin has no Age of ours"
    );
    advance(30).await;
    let second = get(&svc, URL).await;
    assert_eq!(second.body, "body-1");
    assert_eq!(second.header("age"), "30");
    assert_eq!(second.cache_status(), "strata; hit; ttl=30");
    assert_eq!(origin.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_full_query_and_the_authority_are_part_of_the_key() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    assert_eq!(
        get(&svc, "http://example.com/items?page=1").await.body,
        "body-1"
    );
    assert_eq!(
        get(&svc, "http://example.com/items?page=2").await.body,
        "body-2"
    );
    assert_eq!(
        get(&svc, "http://other.example/items?page=1").await.body,
        "body-3"
    );
    let host = get_with(&svc, "/items?page=1", &[("host", "example.com")]).await;
    assert_eq!(
        host.body, "body-1",
        "Host and an absolute target make one key"
    );
    assert_eq!(origin.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_response_goes_stale_when_its_max_age_passes() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(59).await;
    assert!(get(&svc, URL).await.is_hit());
    advance(2).await;
    let stale = get(&svc, URL).await;
    assert_eq!(stale.body, "body-2");
    assert_eq!(
        stale.cache_status(),
        "strata; fwd=stale; fwd-status=200; stored"
    );
}

#[tokio::test(start_paused = true)]
async fn s_maxage_wins_over_max_age_for_a_shared_cache() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=1, s-maxage=100")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(50).await;
    assert_eq!(get(&svc, URL).await.cache_status(), "strata; hit; ttl=50");
}

#[tokio::test(start_paused = true)]
async fn an_invalid_expires_is_stale_at_once() {
    let origin = Origin::with_headers(&[("expires", "0"), ("etag", "\"a\"")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    let again = get(&svc, URL).await;
    assert!(!again.is_hit(), "{}", again.cache_status());
    assert_eq!(origin.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn heuristic_freshness_is_a_tenth_of_the_last_modified_age() {
    let modified =
        httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(1000));
    let origin =
        Origin::new(move |_, n| response(200, &[("last-modified", &modified)], &format!("b{n}")));
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(98).await;
    assert!(get(&svc, URL).await.is_hit());
    advance(4).await;
    assert!(!get(&svc, URL).await.is_hit());
}

#[tokio::test(start_paused = true)]
async fn no_freshness_is_not_stored_unless_a_default_ttl_is_opted_into() {
    let origin = Origin::with_headers(&[]);
    let svc = service(&CacheLayer::new(), &origin);
    assert!(
        get(&svc, URL)
            .await
            .cache_status()
            .ends_with("detail=no-freshness")
    );
    assert!(!get(&svc, URL).await.is_hit());
    let layer = CacheLayer::builder(MemoryStore::new())
        .default_ttl(Duration::from_secs(5))
        .build()
        .expect("valid");
    let svc = service(&layer, &origin);
    get(&svc, URL).await;
    assert!(get(&svc, URL).await.is_hit());
}

#[tokio::test(start_paused = true)]
async fn head_is_answered_from_a_stored_get() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    let head = send(&svc, req(Method::HEAD, URL, &[])).await;
    assert!(head.is_hit());
    assert_eq!(head.body, "");
    assert_eq!(head.header("content-length"), "6");
    assert_eq!(origin.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn client_conditionals_get_a_304_from_the_cache() {
    let origin = Origin::with_headers(&[
        ("cache-control", "max-age=60"),
        ("etag", "\"v1\""),
        ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
    ]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    let inm = get_with(&svc, URL, &[("if-none-match", "W/\"v1\"")]).await;
    assert_eq!(inm.status, StatusCode::NOT_MODIFIED);
    assert_eq!(inm.body, "");
    assert_eq!(inm.header("etag"), "\"v1\"");
    assert!(inm.is_hit());
    let ims = get_with(
        &svc,
        URL,
        &[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")],
    )
    .await;
    assert_eq!(ims.status, StatusCode::NOT_MODIFIED);
    let other = get_with(&svc, URL, &[("if-none-match", "\"v2\"")]).await;
    assert_eq!(
        (other.status, other.body.as_str()),
        (StatusCode::OK, "body-1")
    );
    assert_eq!(origin.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn stale_entries_are_revalidated_and_freshened_from_a_304() {
    let origin = Origin::new(|r, n| {
        if r.headers()
            .get("if-none-match")
            .is_some_and(|v| v == "\"v1\"")
        {
            response(
                304,
                &[
                    ("cache-control", "max-age=120"),
                    ("etag", "\"v1\""),
                    ("x-fresh", "yes"),
                ],
                "",
            )
        } else {
            response(
                200,
                &[("cache-control", "max-age=60"), ("etag", "\"v1\"")],
                &format!("body-{n}"),
            )
        }
    });
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(61).await;
    let revalidated = get(&svc, URL).await;
    assert_eq!(origin.last_seen()["if-none-match"], "\"v1\"");
    assert_eq!(revalidated.status, StatusCode::OK);
    assert_eq!(revalidated.body, "body-1", "the stored body, not the 304's");
    assert_eq!(revalidated.header("x-fresh"), "yes");
    assert!(
        revalidated
            .cache_status()
            .starts_with("strata; fwd=stale; fwd-status=304"),
        "{}",
        revalidated.cache_status()
    );
    advance(100).await;
    let hit = get(&svc, URL).await;
    assert!(
        hit.is_hit(),
        "the 304's max-age=120 now applies: {}",
        hit.cache_status()
    );
    assert_eq!(hit.header("x-fresh"), "yes");
    assert_eq!(origin.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn set_cookie_private_and_no_store_responses_are_not_stored() {
    for (headers, detail) in [
        (
            &[("cache-control", "max-age=60"), ("set-cookie", "sid=1")][..],
            "set-cookie",
        ),
        (&[("cache-control", "max-age=60, private")][..], "private"),
        (&[("cache-control", "max-age=60, no-store")][..], "no-store"),
        (
            &[("cache-control", "max-age=60"), ("vary", "*")][..],
            "vary-star",
        ),
    ] {
        let headers: &'static [(&'static str, &'static str)] =
            Box::leak(headers.to_vec().into_boxed_slice());
        let origin = Origin::with_headers(headers);
        let svc = service(&CacheLayer::new(), &origin);
        let first = get(&svc, URL).await;
        assert!(
            first.cache_status().ends_with(&format!("detail={detail}")),
            "{}",
            first.cache_status()
        );
        assert!(!get(&svc, URL).await.is_hit(), "{detail}");
        assert_eq!(origin.calls(), 2, "{detail}");
    }
}

#[tokio::test(start_paused = true)]
async fn qualified_private_set_cookie_is_stored_without_the_cookie() {
    let origin = Origin::with_headers(&[
        ("cache-control", "max-age=60, private=\"set-cookie\""),
        ("set-cookie", "sid=1"),
    ]);
    let svc = service(&CacheLayer::new(), &origin);
    assert_eq!(
        get(&svc, URL).await.header("set-cookie"),
        "sid=1",
        "the origin's response goes to its requester"
    );
    let hit = get(&svc, URL).await;
    assert!(hit.is_hit());
    assert_eq!(hit.header("set-cookie"), "", "never replayed to others");
}

#[tokio::test(start_paused = true)]
async fn cookies_and_authorization_bypass_unless_the_response_is_shareable() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    let cookie = get_with(&svc, URL, &[("cookie", "sid=abc")]).await;
    assert_eq!(
        cookie.body, "body-2",
        "a stored response is not read for a request with a cookie"
    );
    assert!(
        cookie.cache_status().ends_with("detail=cookie"),
        "{}",
        cookie.cache_status()
    );
    let auth = get_with(
        &svc,
        "http://example.com/auth",
        &[("authorization", "Bearer x")],
    )
    .await;
    assert!(auth.cache_status().ends_with("detail=authorization"));

    let public = Origin::with_headers(&[("cache-control", "public, max-age=60")]);
    let svc = service(&CacheLayer::new(), &public);
    get_with(&svc, URL, &[("cookie", "sid=abc")]).await;
    assert!(
        get_with(&svc, URL, &[("authorization", "Bearer y")])
            .await
            .is_hit()
    );
    assert!(get(&svc, URL).await.is_hit());
}

#[tokio::test(start_paused = true)]
async fn ignore_cookies_when_shares_a_route_despite_the_cookie() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let layer = CacheLayer::builder(MemoryStore::new())
        .ignore_cookies_when(|parts| parts.uri.path().starts_with("/items"))
        .build()
        .expect("valid");
    let svc = service(&layer, &origin);
    get_with(&svc, URL, &[("cookie", "sid=alice")]).await;
    assert!(get_with(&svc, URL, &[("cookie", "sid=bob")]).await.is_hit());
    get_with(&svc, "http://example.com/me", &[("cookie", "sid=alice")]).await;
    assert!(
        !get_with(&svc, "http://example.com/me", &[("cookie", "sid=bob")])
            .await
            .is_hit()
    );
}

#[tokio::test(start_paused = true)]
async fn vary_keeps_every_variant_and_normalises_accept_encoding() {
    let origin = Origin::new(|r, _| {
        let coding = r
            .headers()
            .get("accept-encoding")
            .map_or("", |v| v.to_str().expect("ascii"));
        let (ce, body) = if coding.contains("br") {
            ("br", "BR")
        } else if coding.contains("gzip") {
            ("gzip", "GZ")
        } else {
            ("", "ID")
        };
        let mut h = vec![("cache-control", "max-age=60"), ("vary", "Accept-Encoding")];
        if !ce.is_empty() {
            h.push(("content-encoding", ce));
        }
        response(200, &h, body)
    });
    let svc = service(&CacheLayer::new(), &origin);
    assert_eq!(
        get_with(&svc, URL, &[("accept-encoding", "gzip, br")])
            .await
            .body,
        "BR"
    );
    assert_eq!(
        get_with(&svc, URL, &[("accept-encoding", "gzip")])
            .await
            .body,
        "GZ"
    );
    assert_eq!(get(&svc, URL).await.body, "ID");
    assert_eq!(origin.calls(), 3);
    let br = get_with(
        &svc,
        URL,
        &[("accept-encoding", "br;q=1.0, gzip;q=0.8, deflate")],
    )
    .await;
    assert!(
        br.is_hit() && br.body == "BR",
        "an equivalent request shares the br variant"
    );
    assert!(
        get_with(&svc, URL, &[("accept-encoding", "gzip, deflate")])
            .await
            .is_hit()
    );
    assert!(get(&svc, URL).await.is_hit());
    assert_eq!(origin.calls(), 3);
    let miss = get_with(&svc, URL, &[("accept-encoding", "zstd")]).await;
    assert!(
        miss.cache_status().contains("fwd=vary-miss"),
        "{}",
        miss.cache_status()
    );
}

#[tokio::test(start_paused = true)]
async fn too_many_vary_fields_are_not_stored() {
    let vary: String = (0..300).map(|i| format!("x-f{i}, ")).collect();
    let vary: &'static str = Box::leak(vary.into_boxed_str());
    let origin = Origin::new(move |_, _| {
        response(200, &[("cache-control", "max-age=60"), ("vary", vary)], "x")
    });
    let svc = service(&CacheLayer::new(), &origin);
    assert!(
        get(&svc, URL)
            .await
            .cache_status()
            .ends_with("detail=vary-too-many")
    );
}

#[tokio::test(start_paused = true)]
async fn request_directives() {
    let origin = Origin::with_headers(&[
        ("cache-control", "max-age=60, stale-while-revalidate=0"),
        ("etag", "\"e\""),
    ]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(20).await;
    assert!(
        !get_with(&svc, URL, &[("cache-control", "max-age=10")])
            .await
            .is_hit()
    );
    assert!(
        get_with(&svc, URL, &[("cache-control", "min-fresh=10")])
            .await
            .is_hit()
    );
    assert!(
        !get_with(&svc, URL, &[("cache-control", "min-fresh=100")])
            .await
            .is_hit()
    );
    let no_cache = get_with(&svc, URL, &[("cache-control", "no-cache")]).await;
    assert!(
        no_cache.cache_status().contains("fwd=request"),
        "{}",
        no_cache.cache_status()
    );
    let no_store = get_with(&svc, URL, &[("cache-control", "no-store")]).await;
    assert!(no_store.cache_status().contains("fwd=request"));
    advance(70).await;
    let max_stale = get_with(&svc, URL, &[("cache-control", "max-stale=30")]).await;
    assert!(max_stale.is_hit(), "{}", max_stale.cache_status());
    assert!(
        !get_with(&svc, URL, &[("cache-control", "max-stale=1")])
            .await
            .is_hit()
    );
}

#[tokio::test(start_paused = true)]
async fn only_if_cached_is_a_504_when_nothing_fits() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    let none = get_with(&svc, URL, &[("cache-control", "only-if-cached")]).await;
    assert_eq!(none.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(origin.calls(), 0);
    get(&svc, URL).await;
    assert!(
        get_with(&svc, URL, &[("cache-control", "only-if-cached")])
            .await
            .is_hit()
    );
    advance(61).await;
    assert_eq!(
        get_with(&svc, URL, &[("cache-control", "only-if-cached")])
            .await
            .status,
        StatusCode::GATEWAY_TIMEOUT
    );
}

#[tokio::test(start_paused = true)]
async fn unsafe_requests_invalidate_the_target_and_same_origin_locations() {
    let origin = Origin::new(|r, n| {
        if r.method() == Method::POST {
            response(
                201,
                &[
                    ("location", "/items/7"),
                    ("content-location", "https://evil.example/items?page=1"),
                ],
                "",
            )
        } else {
            response(
                200,
                &[("cache-control", "max-age=60")],
                &format!("body-{n}"),
            )
        }
    });
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    get(&svc, "http://example.com/items/7").await;
    let post = send(&svc, req(Method::POST, URL, &[])).await;
    assert_eq!(post.cache_status(), "strata; fwd=method; fwd-status=201");
    assert!(!get(&svc, URL).await.is_hit());
    assert!(!get(&svc, "http://example.com/items/7").await.is_hit());
}

#[tokio::test(start_paused = true)]
async fn a_failed_unsafe_request_invalidates_nothing() {
    let origin = Origin::new(|r, n| {
        if r.method() == Method::DELETE {
            response(500, &[], "")
        } else {
            response(200, &[("cache-control", "max-age=60")], &format!("{n}"))
        }
    });
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    send(&svc, req(Method::DELETE, URL, &[])).await;
    assert!(get(&svc, URL).await.is_hit());
}
