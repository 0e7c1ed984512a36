//! The conformance suite against `RedisStore` on a real `redis-server`.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_recorder::RedisStore;
use strata_testkit::redis::{shared, unique_prefix};

async fn pool(url: &str) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("pool");
    assert!(
        strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
        "connected in time"
    );
    pool
}

async fn store(max_bytes: u64, max_count: u64) -> RedisStore {
    RedisStore::new(pool(shared().url()).await)
        .prefix(unique_prefix("recorder"))
        .max_bytes(max_bytes)
        .max_count(max_count)
        .ttl(Duration::from_secs(3600))
}

conformance_suite!(store);

/// Every key of the layout carries a TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_has_a_ttl() {
    use strata_core::redis::fred::interfaces::KeysInterface as _;

    let store = store(1 << 20, 100).await;
    let pool = pool(shared().url()).await;
    common::put(
        &store,
        &common::exchange(common::now_ms(), 1, 200, "/a", None, b"x"),
    )
    .await;
    for kind in ["idx", "sum", "size", "body", "bytes"] {
        let ttl: i64 = pool.pttl(store.key(kind)).await.unwrap();
        assert!(ttl > 3_500_000 && ttl <= 3_600_000, "{kind}: {ttl}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_bounds_are_refused_when_the_layer_is_built_naming_the_setting() {
    let ttl = |ttl| async move { store(1 << 20, 100).await.ttl(ttl) };
    let refused = [
        (store(0, 100).await, "RedisStore::max_bytes"),
        (store(1 << 20, 0).await, "RedisStore::max_count"),
        (ttl(Duration::ZERO).await, "RedisStore::ttl"),
        (ttl(Duration::from_micros(999)).await, "RedisStore::ttl"),
    ];
    for (store, setting) in refused {
        common::assert_refused(store, setting);
    }
    let smallest = store(1, 1).await.ttl(Duration::from_millis(1));
    let layer = strata_recorder::RecorderLayer::builder().store(smallest);
    assert!(layer.build().is_ok());
}
