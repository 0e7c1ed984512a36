//! Two layer instances sharing one Redis: coalescing across instances,
//! purges seen by the other instance, and an outage (bypass, recovery).
#![cfg(feature = "redis")]

mod common;

use std::time::Duration;

use common::redis::pool;
use common::{Origin, get, service};
use futures_util::future::join_all;
use strata_cache::{CacheHandle, CacheLayer, RedisStore};
use strata_testkit::redis::{RedisServer, shared, unique_prefix};

async fn instance(url: &str, prefix: &str) -> (CacheLayer, CacheHandle) {
    CacheLayer::builder(RedisStore::new(pool(url).await).prefix(prefix.to_owned()))
        .store_timeout(Duration::from_secs(2))
        .collapse_timeout(Duration::from_secs(10))
        .pair()
        .expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_misses_on_two_instances_make_one_origin_call() {
    let prefix = unique_prefix("cache-coalesce");
    let ((a, _), (b, _)) = (
        instance(shared().url(), &prefix).await,
        instance(shared().url(), &prefix).await,
    );
    // Slow enough that every request arrives while the first is in flight.
    let origin =
        Origin::with_headers(&[("cache-control", "max-age=60")]).delay(Duration::from_secs(1));
    let (sa, sb) = (service(&a, &origin), service(&b, &origin));
    let url = "http://example.com/hot";
    let requests = (0..100).map(|i| {
        let svc = if i % 2 == 0 { sa.clone() } else { sb.clone() };
        async move { get(&svc, url).await }
    });
    let all = join_all(requests).await;
    assert_eq!(
        origin.calls(),
        1,
        "{:?}",
        all.iter().map(|g| g.cache_status()).collect::<Vec<_>>()
    );
    assert!(all.iter().all(|g| g.body == "body-1"));
}

#[tokio::test]
async fn purges_and_soft_purges_are_seen_by_the_other_instance() {
    let prefix = unique_prefix("cache-purge");
    let ((a, _), (b, handle_b)) = (
        instance(shared().url(), &prefix).await,
        instance(shared().url(), &prefix).await,
    );
    let origin = Origin::new(|r, n| {
        let tag = if r.uri().path() == "/list" {
            "list"
        } else {
            "item"
        };
        common::response(
            200,
            &[
                ("cache-control", "max-age=600, stale-while-revalidate=600"),
                ("surrogate-key", tag),
            ],
            &format!("body-{n}"),
        )
    });
    let (sa, sb) = (service(&a, &origin), service(&b, &origin));
    get(&sa, "http://example.com/item").await;
    get(&sa, "http://example.com/list").await;
    assert!(
        get(&sb, "http://example.com/item").await.is_hit(),
        "b reads what a stored"
    );
    assert_eq!(handle_b.purge_tag("item").await.expect("purge"), 1);
    assert!(
        !get(&sa, "http://example.com/item").await.is_hit(),
        "a sees b's purge"
    );
    assert_eq!(
        handle_b.soft_purge_tag("list").await.expect("soft purge"),
        1
    );
    let stale = get(&sa, "http://example.com/list").await;
    assert_eq!(stale.body, "body-2");
    assert!(
        stale.cache_status().contains("stale-while-revalidate"),
        "{}",
        stale.cache_status()
    );
    // a's background refresh lands in Redis; b then reads the new body.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = get(&sb, "http://example.com/list").await;
        if got.body == "body-4" && got.is_hit() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refresh never reached b: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(origin.calls(), 4, "one refresh for the soft purge");
}

#[tokio::test]
async fn an_outage_bypasses_and_the_cache_recovers() {
    let server = RedisServer::start();
    let (layer, _) =
        CacheLayer::builder(RedisStore::new(pool(server.url()).await).prefix("outage:"))
            .store_timeout(Duration::from_millis(50))
            .pair()
            .expect("valid");
    let origin = Origin::with_headers(&[("cache-control", "max-age=600")]);
    let svc = service(&layer, &origin);
    let url = "http://example.com/o";
    get(&svc, url).await;
    assert!(get(&svc, url).await.is_hit());
    server.stop();
    for _ in 0..5 {
        let started = tokio::time::Instant::now();
        let got = get(&svc, url).await;
        assert_eq!(got.status, 200);
        assert!(
            got.cache_status()
                .contains("fwd=bypass; fwd-status=200; detail=store-unavailable"),
            "{}",
            got.cache_status()
        );
        // A hang's ceiling, far above the 50 ms store timeout.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    server.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = get(&svc, url).await;
        if got.is_hit() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never recovered: {}",
            got.cache_status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_lease_left_by_a_dead_instance_expires_and_a_waiter_fetches() {
    use strata_cache::{CacheKey, Lease, Store};
    let prefix = unique_prefix("cache-dead-leader");
    let dead = RedisStore::new(pool(shared().url()).await).prefix(prefix.clone());
    let key = CacheKey::new("http", "example.com", "/orphan");
    // An instance took the lease for 1 s and died without releasing it.
    let lease = dead
        .lease(&key, "", Duration::from_secs(1))
        .await
        .expect("lease");
    assert!(matches!(lease, Lease::Acquired(_)));
    let (layer, _) =
        CacheLayer::builder(RedisStore::new(pool(shared().url()).await).prefix(prefix))
            .store_timeout(Duration::from_secs(2))
            .collapse_timeout(Duration::from_secs(1))
            .pair()
            .expect("valid");
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&layer, &origin);
    let started = tokio::time::Instant::now();
    let got = get(&svc, "http://example.com/orphan").await;
    assert_eq!(got.body, "body-1");
    assert_eq!(
        got.cache_status(),
        "strata; fwd=uri-miss; fwd-status=200; stored"
    );
    assert_eq!(origin.calls(), 1);
    // Waited for the lease (about 1 s), well short of a hang.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(get(&svc, "http://example.com/orphan").await.is_hit());
}
