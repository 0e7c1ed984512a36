//! stale-while-revalidate, stale-if-error, what forbids serving stale,
//! tags, purges and soft purges, through the public API (paused time).

mod common;

use std::time::Duration;

use common::{Origin, get, response, service};
use http::StatusCode;
use strata_cache::{CacheKey, CacheLayer, MemoryStore};

const URL: &str = "http://example.com/items";

fn advance(secs: u64) -> impl Future<Output = ()> {
    tokio::time::advance(Duration::from_secs(secs))
}

/// Lets spawned background work run.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn stale_while_revalidate_serves_stale_and_refreshes_once_in_the_background() {
    let origin =
        Origin::with_headers(&[("cache-control", "max-age=10, stale-while-revalidate=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(15).await;
    let mut stale = Vec::new();
    for _ in 0..5 {
        stale.push(get(&svc, URL).await);
    }
    for got in &stale {
        assert_eq!(got.body, "body-1");
        assert_eq!(
            got.cache_status(),
            "strata; hit; ttl=-5; detail=stale-while-revalidate"
        );
    }
    settle().await;
    assert_eq!(
        origin.calls(),
        2,
        "one background refresh for five stale hits"
    );
    let fresh = get(&svc, URL).await;
    assert_eq!(fresh.body, "body-2");
    assert!(fresh.is_hit());
    advance(100).await;
    assert!(
        !get(&svc, URL).await.is_hit(),
        "past the window the request waits for the origin"
    );
}

#[tokio::test(start_paused = true)]
async fn directives_that_forbid_stale_win_over_stale_while_revalidate() {
    for cc in [
        "max-age=10, stale-while-revalidate=60, must-revalidate",
        "max-age=10, stale-while-revalidate=60, proxy-revalidate",
        "s-maxage=10, stale-while-revalidate=60",
        "max-age=10, stale-while-revalidate=60, no-cache",
    ] {
        let cc: &'static str = Box::leak(cc.to_owned().into_boxed_str());
        let origin =
            Origin::new(move |_, n| response(200, &[("cache-control", cc)], &format!("body-{n}")));
        let svc = service(&CacheLayer::new(), &origin);
        get(&svc, URL).await;
        advance(15).await;
        let got = get(&svc, URL).await;
        assert_eq!(got.body, "body-2", "{cc}: {}", got.cache_status());
    }
}

#[tokio::test(start_paused = true)]
async fn stale_if_error_serves_stale_on_a_5xx_or_an_origin_error() {
    let origin = Origin::fallible(|_, n| match n {
        1 => Ok(response(
            200,
            &[("cache-control", "max-age=10, stale-if-error=60")],
            "good",
        )),
        2 => Ok(response(503, &[], "down")),
        _ => Err(std::io::Error::other("connection refused")),
    });
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(20).await;
    let on_5xx = get(&svc, URL).await;
    assert_eq!(
        (on_5xx.status, on_5xx.body.as_str()),
        (StatusCode::OK, "good")
    );
    assert_eq!(
        on_5xx.cache_status(),
        "strata; fwd=stale; fwd-status=503; ttl=-10; detail=stale-if-error"
    );
    let on_error = get(&svc, URL).await;
    assert_eq!(on_error.body, "good");
    assert!(
        on_error.cache_status().ends_with("detail=stale-if-error"),
        "{}",
        on_error.cache_status()
    );
    advance(60).await;
    let err =
        tower::ServiceExt::oneshot(svc.clone(), common::req(http::Method::GET, URL, &[])).await;
    assert!(
        err.is_err(),
        "past the allowance the origin's error is the answer"
    );
}

#[tokio::test(start_paused = true)]
async fn without_stale_if_error_a_5xx_passes_through() {
    let origin = Origin::new(|_, n| {
        if n == 1 {
            response(200, &[("cache-control", "max-age=10")], "good")
        } else {
            response(502, &[], "bad")
        }
    });
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    advance(20).await;
    assert_eq!(get(&svc, URL).await.status, StatusCode::BAD_GATEWAY);
}

#[tokio::test(start_paused = true)]
async fn tags_are_stripped_and_purge_by_tag_and_key() {
    let origin = Origin::new(|r, n| {
        let tags = if r.uri().path() == "/items" {
            "items"
        } else {
            "items item-1"
        };
        response(
            200,
            &[("cache-control", "max-age=600"), ("surrogate-key", tags)],
            &format!("body-{n}"),
        )
    });
    let (layer, handle) = CacheLayer::builder(MemoryStore::new())
        .pair()
        .expect("valid");
    let svc = service(&layer, &origin);
    let first = get(&svc, URL).await;
    assert_eq!(
        first.header("surrogate-key"),
        "",
        "the tag header never leaves"
    );
    get(&svc, "http://example.com/items/1").await;
    get(&svc, "http://example.com/other").await;
    assert!(get(&svc, URL).await.header("surrogate-key").is_empty());
    assert_eq!(
        handle.purge_tag("item-1").await.expect("purge"),
        2,
        "/items/1 and /other carry item-1"
    );
    assert!(get(&svc, URL).await.is_hit());
    assert!(!get(&svc, "http://example.com/items/1").await.is_hit());
    handle
        .purge(&CacheKey::new("http", "example.com", "/items"))
        .await
        .expect("purge");
    assert!(!get(&svc, URL).await.is_hit());
}

#[tokio::test(start_paused = true)]
async fn soft_purge_refreshes_through_stale_while_revalidate_without_a_stampede() {
    let origin = Origin::with_headers(&[
        ("cache-control", "max-age=600, stale-while-revalidate=60"),
        ("surrogate-key", "list"),
    ]);
    let (layer, handle) = CacheLayer::builder(MemoryStore::new())
        .pair()
        .expect("valid");
    let svc = service(&layer, &origin);
    get(&svc, URL).await;
    assert_eq!(handle.soft_purge_tag("list").await.expect("soft purge"), 1);
    for _ in 0..5 {
        let got = get(&svc, URL).await;
        assert_eq!(got.body, "body-1");
        assert!(
            got.cache_status().contains("detail=stale-while-revalidate"),
            "{}",
            got.cache_status()
        );
    }
    settle().await;
    assert_eq!(origin.calls(), 2, "one refresh");
    assert_eq!(get(&svc, URL).await.body, "body-2");
}

#[tokio::test(start_paused = true)]
async fn a_soft_purged_entry_without_swr_is_revalidated() {
    let origin = Origin::new(|r, n| {
        if r.headers().contains_key("if-none-match") {
            response(304, &[], "")
        } else {
            response(
                200,
                &[("cache-control", "max-age=600"), ("etag", "\"a\"")],
                &format!("body-{n}"),
            )
        }
    });
    let (layer, handle) = CacheLayer::builder(MemoryStore::new())
        .pair()
        .expect("valid");
    let svc = service(&layer, &origin);
    get(&svc, URL).await;
    handle
        .soft_purge(&CacheKey::new("http", "example.com", "/items"))
        .await
        .expect("soft purge");
    let got = get(&svc, URL).await;
    assert_eq!(got.body, "body-1");
    assert!(
        got.cache_status().contains("fwd-status=304"),
        "{}",
        got.cache_status()
    );
    assert!(get(&svc, URL).await.is_hit());
}
