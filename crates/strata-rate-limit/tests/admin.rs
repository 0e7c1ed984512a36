//! `RateLimitAdmin` on every store: `show` reads remaining, time until
//! full and Retry-After without consuming; `reset` gives the key its whole
//! quota back, per policy or for every policy. Quotas are per hour, so the
//! counts do not depend on how fast the test runs.
#![cfg(feature = "redis")]

use std::time::Duration;

use strata_core::redis::RedisPoolBuilder;
use strata_rate_limit::{Key, MemoryStore, Policy, Quota, RateLimitAdmin, RedisStore, Store};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

const MINUTE: Duration = Duration::from_secs(60);

fn redis(url: &str) -> RedisStore {
    let pool = RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .build()
        .expect("pool");
    drop(pool.connect_pool());
    RedisStore::new(pool)
        .prefix(unique_prefix("rl-admin"))
        .timeout(Duration::from_secs(2))
}

/// Whether one request of `key` under `policies` is allowed, as the layer
/// would ask the store: fills the state the admin then reads.
async fn allowed<S: Store>(store: &S, key: &Key, policies: &[Policy]) -> bool {
    store
        .check(key, policies, 1)
        .await
        .expect("check")
        .is_allowed()
}

async fn shows_and_resets<S: Store + Clone>(store: S) {
    let hourly = Policy::new("hourly", Quota::per_hour(5));
    let daily = Policy::new("daily", Quota::per_day(100));
    let both = [hourly.clone(), daily.clone()];
    let key = Key::ip("192.0.2.9".parse().expect("ip"));
    let other = Key::new("tenant-7");
    let admin = RateLimitAdmin::new(store.clone());

    let fresh = admin.show(&key, &hourly).await.expect("show");
    assert_eq!((fresh.limit, fresh.remaining), (5, 5));
    assert_eq!(
        (fresh.full_in, fresh.retry_after),
        (Duration::ZERO, Duration::ZERO)
    );
    assert_eq!(
        admin.reset(&key, None).await.expect("reset"),
        0,
        "nothing to reset"
    );

    for _ in 0..3 {
        assert!(allowed(&store, &key, &both).await);
    }
    assert!(allowed(&store, &other, &both).await);
    let used = admin.show(&key, &hourly).await.expect("show");
    assert_eq!(used.remaining, 2, "{used:?}");
    assert!(
        used.full_in > 35 * MINUTE && used.full_in <= 36 * MINUTE,
        "{used:?}"
    );
    assert_eq!(used.retry_after, Duration::ZERO);
    let again = admin.show(&key, &hourly).await.expect("show");
    assert_eq!(again.remaining, 2, "show consumes nothing");
    assert!(again.full_in <= used.full_in);

    for _ in 0..2 {
        assert!(allowed(&store, &key, &both).await);
    }
    assert!(!allowed(&store, &key, &both).await);
    let out = admin.show(&key, &hourly).await.expect("show");
    assert_eq!(out.remaining, 0);
    assert!(
        out.retry_after > 11 * MINUTE && out.retry_after <= 12 * MINUTE,
        "{out:?}"
    );

    assert_eq!(admin.states(&key, None).await.expect("count"), 2);
    assert_eq!(admin.states(&key, Some("hourly")).await.expect("count"), 1);
    assert_eq!(admin.states(&key, Some("other")).await.expect("count"), 0);
    assert_eq!(admin.reset(&key, Some("hourly")).await.expect("reset"), 1);
    assert_eq!(
        admin.states(&key, None).await.expect("count"),
        1,
        "a count changes nothing but reset did"
    );
    assert_eq!(admin.show(&key, &hourly).await.expect("show").remaining, 5);
    assert_eq!(
        admin.show(&key, &daily).await.expect("show").remaining,
        95,
        "the other policy is kept"
    );
    assert_eq!(
        admin.reset(&key, None).await.expect("reset"),
        1,
        "the daily state"
    );
    assert_eq!(admin.show(&key, &daily).await.expect("show").remaining, 100);
    assert_eq!(
        admin.show(&other, &daily).await.expect("show").remaining,
        99,
        "another key is untouched"
    );
}

#[tokio::test]
async fn on_memory() {
    shows_and_resets(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis() {
    shows_and_resets(redis(shared().url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster() {
    shows_and_resets(redis(shared_cluster().url())).await;
}
