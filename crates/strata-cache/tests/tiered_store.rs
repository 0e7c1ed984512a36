//! `TieredStore`: the conformance suite over memory, Redis and Redis
//! Cluster; reads served by the memory tier; overwrites and purges on one
//! instance evicting every instance's memory tier.

mod common;

use std::time::Duration;

use common::suite;
use strata_cache::{CacheLayer, DataCache, MemoryStore, Store, Tier, TieredStore};
use strata_core::ConfigError;

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn conformance_over_memory() {
    let s = TieredStore::new(MemoryStore::new());
    suite::round_trip(&s, "rt").await;
    suite::variants(&s, "v").await;
    suite::tag_purge(&s, "tp").await;
    suite::soft_purge(&s, "sp").await;
    suite::expiry(&s, "ex").await;
}

#[tokio::test]
async fn the_second_read_is_served_by_the_memory_tier_unless_too_large() {
    let s = TieredStore::new(MemoryStore::new()).max_value_bytes(2048);
    let small = suite::key("tier", "/small");
    s.put(&small, "", suite::entry("small", &[]), TTL)
        .await
        .expect("put");
    let got = s.get(&small, "").await.expect("get");
    assert_eq!(got.tier, Tier::Memory, "a write fills the memory tier");
    let big = suite::key("tier", "/big");
    s.put(&big, "", suite::entry(&"x".repeat(4096), &[]), TTL)
        .await
        .expect("put");
    for _ in 0..2 {
        let got = s.get(&big, "").await.expect("get");
        assert!(got.entry.is_some());
        assert_eq!(got.tier, Tier::Shared, "too large for the memory tier");
    }
}

#[tokio::test]
async fn a_setting_applies_also_to_a_store_that_was_cloned() {
    let base = TieredStore::new(MemoryStore::new());
    let _clone = base.clone();
    let s = base.max_value_bytes(2048);
    let big = suite::key("cloned", "/big");
    s.put(&big, "", suite::entry(&"x".repeat(4096), &[]), TTL)
        .await
        .expect("put");
    assert_eq!(s.get(&big, "").await.expect("get").tier, Tier::Shared);
}

#[test]
fn invalid_tier_settings_are_refused_by_name() {
    let result =
        DataCache::builder(TieredStore::new(MemoryStore::new()).memory_ttl(Duration::ZERO)).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "TieredStore::memory_ttl",
                ..
            })
        ),
        "{result:?}"
    );
    let result =
        CacheLayer::builder(TieredStore::new(MemoryStore::new()).max_value_bytes(0)).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "TieredStore::max_value_bytes",
                ..
            })
        ),
        "{result:?}"
    );
    let result = DataCache::builder(
        TieredStore::new(MemoryStore::new()).memory(MemoryStore::new().max_bytes(10)),
    )
    .build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "MemoryStore::max_bytes",
                ..
            })
        ),
        "{result:?}"
    );
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use common::redis::pool;
    use strata_cache::RedisStore;
    use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

    async fn instance(url: &str, prefix: &str) -> TieredStore<RedisStore> {
        TieredStore::new(RedisStore::new(pool(url).await).prefix(prefix.to_owned()))
    }

    #[tokio::test]
    async fn conformance_over_redis() {
        let s = instance(shared().url(), &unique_prefix("tiered")).await;
        suite::round_trip(&s, "rt").await;
        suite::variants(&s, "v").await;
        suite::tag_purge(&s, "tp").await;
        suite::soft_purge(&s, "sp").await;
        suite::leases(&s, "l").await;
        suite::expiry(&s, "ex").await;
    }

    #[tokio::test]
    async fn conformance_over_redis_cluster() {
        let s = instance(shared_cluster().url(), &unique_prefix("tiered-cluster")).await;
        suite::round_trip(&s, "rt").await;
        suite::variants(&s, "v").await;
        suite::tag_purge(&s, "tp").await;
        suite::soft_purge(&s, "sp").await;
        suite::leases(&s, "l").await;
        suite::expiry(&s, "ex").await;
    }

    /// Polls `b` until it reads `want` (`None`: nothing), with a generous
    /// ceiling that only catches a lost invalidation.
    async fn until_read(
        b: &TieredStore<RedisStore>,
        key: &strata_cache::CacheKey,
        want: Option<&str>,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = b.get(key, "").await.expect("get");
            let body = got
                .entry
                .as_ref()
                .map(|e| String::from_utf8_lossy(e.body()).into_owned());
            if body.as_deref() == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "instance b still reads {body:?} 20 s later (memory_ttl is 10 min)"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn overwrites_and_purges_reach_the_other_memory_tier(url: &str, name: &str) {
        let prefix = unique_prefix(name);
        let long = Duration::from_secs(600);
        let a = instance(url, &prefix).await.memory_ttl(long);
        let b = instance(url, &prefix).await.memory_ttl(long);
        let key = suite::key(name, "/item/1");
        a.put(&key, "", suite::entry("v1", &["item:1"]), TTL)
            .await
            .expect("put");
        // b fills its memory tier once its invalidation channel is
        // subscribed.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while b.get(&key, "").await.expect("get").tier != Tier::Memory {
            assert!(
                tokio::time::Instant::now() < deadline,
                "b never held it in memory"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        until_read(&b, &key, Some("v1")).await;

        a.put(&key, "", suite::entry("v2", &["item:1"]), TTL)
            .await
            .expect("overwrite");
        until_read(&b, &key, Some("v2")).await;

        a.purge_tag("item:1").await.expect("purge tag");
        until_read(&b, &key, None).await;

        a.put(&key, "", suite::entry("v3", &[]), TTL)
            .await
            .expect("put");
        until_read(&b, &key, Some("v3")).await;
        a.purge(&key).await.expect("purge");
        until_read(&b, &key, None).await;
    }

    #[tokio::test]
    async fn overwrites_and_purges_reach_the_other_instance_on_redis() {
        overwrites_and_purges_reach_the_other_memory_tier(shared().url(), "tiered-inval").await;
    }

    #[tokio::test]
    async fn overwrites_and_purges_reach_the_other_instance_on_a_cluster() {
        overwrites_and_purges_reach_the_other_memory_tier(shared_cluster().url(), "tiered-inval-c")
            .await;
    }
}
