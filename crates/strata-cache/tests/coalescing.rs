//! Concurrent misses for one variant make one origin request; uncacheable
//! and personal responses are never handed to waiters.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Origin, get, get_with, response, service};
use futures_util::future::join_all;
use strata_cache::{CacheLayer, MemoryStore};
use tokio::sync::Semaphore;

const URL: &str = "http://example.com/hot";

#[tokio::test(start_paused = true)]
async fn a_hundred_concurrent_misses_make_one_origin_call() {
    let origin =
        Origin::with_headers(&[("cache-control", "max-age=60")]).delay(Duration::from_millis(100));
    let svc = service(&CacheLayer::new(), &origin);
    let all = join_all((0..100).map(|_| get(&svc, URL))).await;
    assert_eq!(origin.calls(), 1);
    assert!(all.iter().all(|g| g.body == "body-1"));
    let collapsed = all
        .iter()
        .filter(|g| g.cache_status().contains("collapsed"))
        .count();
    assert_eq!(
        collapsed,
        99,
        "{:?}",
        all.iter().map(|g| g.cache_status()).collect::<Vec<_>>()
    );
    assert!(
        all.iter()
            .filter(|g| g.cache_status().contains("collapsed"))
            .all(|g| g.is_hit())
    );
}

#[tokio::test(start_paused = true)]
async fn coalescing_can_be_switched_off() {
    let origin =
        Origin::with_headers(&[("cache-control", "max-age=60")]).delay(Duration::from_millis(100));
    let layer = CacheLayer::builder(MemoryStore::new())
        .coalesce(false)
        .build()
        .expect("valid");
    let svc = service(&layer, &origin);
    join_all((0..5).map(|_| get(&svc, URL))).await;
    assert_eq!(origin.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_set_cookie_response_is_never_handed_to_waiters() {
    let origin = Origin::new(|_, n| {
        response(
            200,
            &[
                ("cache-control", "max-age=60"),
                ("set-cookie", &format!("sid={n}")),
            ],
            &format!("for-{n}"),
        )
    })
    .delay(Duration::from_millis(100));
    let svc = service(&CacheLayer::new(), &origin);
    let all = join_all((0..10).map(|_| get(&svc, URL))).await;
    assert_eq!(origin.calls(), 10, "every waiter went to the origin itself");
    let mut cookies: Vec<&str> = all.iter().map(|g| g.header("set-cookie")).collect();
    cookies.sort_unstable();
    cookies.dedup();
    assert_eq!(
        cookies.len(),
        10,
        "no response (and no cookie) was shared: {cookies:?}"
    );
    for g in &all {
        assert_eq!(
            g.header("set-cookie").trim_start_matches("sid="),
            g.body.trim_start_matches("for-")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn private_responses_are_never_handed_to_waiters() {
    let origin = Origin::new(|_, n| {
        response(
            200,
            &[("cache-control", "private, max-age=60")],
            &format!("user-{n}"),
        )
    })
    .delay(Duration::from_millis(100));
    let svc = service(&CacheLayer::new(), &origin);
    let all = join_all((0..5).map(|_| get(&svc, URL))).await;
    let mut bodies: Vec<&str> = all.iter().map(|g| g.body.as_str()).collect();
    bodies.sort_unstable();
    bodies.dedup();
    assert_eq!(bodies.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn hit_for_miss_stops_serialising_an_uncacheable_url() {
    // Calls 2 and 3 are held at a gate that opens only when both have
    // arrived: serialised requests would never get there.
    let gate = Arc::new(Semaphore::new(0));
    let mut origin =
        Origin::new(|_, n| response(200, &[("cache-control", "no-store")], &format!("{n}")));
    origin.gate = Some(Arc::clone(&gate));
    let layer = CacheLayer::builder(MemoryStore::new())
        .collapse_timeout(Duration::from_secs(30))
        .build()
        .expect("valid");
    let svc = service(&layer, &origin);
    gate.add_permits(1);
    let first = get(&svc, URL).await;
    assert!(first.cache_status().ends_with("detail=no-store"));
    let opener = {
        let (gate, origin) = (Arc::clone(&gate), origin.clone());
        tokio::spawn(async move {
            while origin.calls() < 3 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            gate.add_permits(2);
        })
    };
    // Well under the 30 s a serialised waiter would wait.
    let both = tokio::time::timeout(
        Duration::from_secs(10),
        join_all((0..2).map(|_| get(&svc, URL))),
    )
    .await;
    assert!(
        both.is_ok(),
        "requests for an uncacheable URL were serialised"
    );
    opener.await.expect("opener");
}

#[tokio::test(start_paused = true)]
async fn requests_with_credentials_are_not_coalesced() {
    let origin =
        Origin::new(|_, n| response(200, &[("cache-control", "max-age=60")], &format!("{n}")))
            .delay(Duration::from_millis(100));
    let svc = service(&CacheLayer::new(), &origin);
    join_all((0..3).map(|i| {
        let cookie = format!("sid={i}");
        let svc = svc.clone();
        async move { get_with(&svc, URL, &[("cookie", &cookie)]).await }
    }))
    .await;
    assert_eq!(origin.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn concurrent_revalidations_of_a_stale_entry_make_one_origin_call() {
    let origin = Origin::new(|r, n| {
        if r.headers().contains_key("if-none-match") {
            response(
                304,
                &[("cache-control", "max-age=60"), ("etag", "\"a\"")],
                "",
            )
        } else {
            response(
                200,
                &[("cache-control", "max-age=60"), ("etag", "\"a\"")],
                &format!("body-{n}"),
            )
        }
    })
    .delay(Duration::from_millis(100));
    let svc = service(&CacheLayer::new(), &origin);
    get(&svc, URL).await;
    tokio::time::advance(Duration::from_secs(61)).await;
    let all = join_all((0..20).map(|_| get(&svc, URL))).await;
    assert_eq!(
        origin.calls(),
        2,
        "one revalidation for twenty stale requests"
    );
    assert!(all.iter().all(|g| g.body == "body-1"));
    assert_eq!(
        all.iter()
            .filter(|g| g.cache_status().contains("collapsed"))
            .count(),
        19
    );
}
