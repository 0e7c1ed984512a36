//! `DataCache` on Redis: one load across instances, an outage served by
//! the memory tier and the loader, and the metrics.
#![cfg(all(feature = "redis", feature = "prometheus"))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::redis::pool;
use strata_cache::{DataCache, DataCacheMetrics, DataKey, RedisStore, TieredStore, Ttl};
use strata_core::ConfigError;
use strata_testkit::redis::{RedisServer, shared, unique_prefix};

async fn instance(url: &str, prefix: &str, metrics: &DataCacheMetrics) -> DataCache {
    let store = TieredStore::new(RedisStore::new(pool(url).await).prefix(prefix.to_owned()))
        .metrics(metrics.clone());
    DataCache::builder(store)
        .store_timeout(Duration::from_millis(500))
        .metrics(metrics.clone())
        .build()
        .expect("valid")
}

fn counter(registry: &prometheus::Registry, name: &str, labels: &[(&str, &str)]) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| {
            labels.iter().all(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *k && l.value() == *v)
            })
        })
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[tokio::test]
async fn a_hundred_misses_on_two_instances_run_the_loader_once() {
    let registry = prometheus::Registry::new();
    let metrics = DataCacheMetrics::register(&registry).expect("register");
    let prefix = unique_prefix("data-coalesce");
    let a = instance(shared().url(), &prefix, &metrics).await;
    let b = instance(shared().url(), &prefix, &metrics).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<String>::new("report", "q3");
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let cache = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (calls, key) = (Arc::clone(&calls), key.clone());
            tokio::spawn(async move {
                cache
                    .get_or_insert_with(&key, Ttl::secs(60), move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        Ok::<_, std::io::Error>("rows".to_owned())
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("loaded"), "rows");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one loader call for both instances"
    );
    assert_eq!(counter(&registry, "strata_cache_data_loads_total", &[]), 1);
    assert!(counter(&registry, "strata_cache_data_coalesced_total", &[]) >= 98);
    // Both now answer from memory.
    for cache in [&a, &b] {
        assert_eq!(cache.get(&key).await.expect("get").as_deref(), Some("rows"));
    }
    assert!(
        counter(
            &registry,
            "strata_cache_data_lookups_total",
            &[("tier", "memory"), ("outcome", "hit")]
        ) >= 2
    );
    assert!(
        counter(
            &registry,
            "strata_cache_data_invalidations_total",
            &[("direction", "sent")]
        ) >= 1
    );
}

#[tokio::test]
async fn an_outage_is_served_by_memory_and_the_loader_and_recovers() {
    let registry = prometheus::Registry::new();
    let metrics = DataCacheMetrics::register(&registry).expect("register");
    let server = RedisServer::start();
    let cache = instance(server.url(), "data-outage:", &metrics).await;
    let held = DataKey::<u32>::new("n", "held");
    cache
        .insert(&held, &1, Ttl::secs(600))
        .await
        .expect("insert");
    // The memory tier fills once the invalidation channel is subscribed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let memory_hit = [("tier", "memory"), ("outcome", "hit")];
    while counter(&registry, "strata_cache_data_lookups_total", &memory_hit) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never held in memory"
        );
        assert_eq!(cache.get(&held).await.expect("get"), Some(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop();
    let calls = Arc::new(AtomicUsize::new(0));
    for i in 0..3 {
        let started = tokio::time::Instant::now();
        let c = Arc::clone(&calls);
        let got = cache
            .get_or_insert_with(&held, Ttl::secs(600), move || async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok::<u32, std::io::Error>(99)
            })
            .await;
        assert_eq!(got.expect("from memory"), 1);
        let c = Arc::clone(&calls);
        let fresh = DataKey::<u32>::new("n", i);
        let got = cache
            .get_or_insert_with(&fresh, Ttl::secs(600), move || async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok::<u32, std::io::Error>(i)
            })
            .await;
        assert_eq!(got.expect("from the loader"), i);
        // A hang's ceiling, far above the 500 ms store timeout.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "only the keys not in memory loaded"
    );
    assert!(counter(&registry, "strata_cache_data_store_errors_total", &[]) >= 1);
    server.restart();
    let after = DataKey::<u32>::new("n", "after");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while cache.insert(&after, &7, Ttl::secs(600)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let other = instance(server.url(), "data-outage:", &metrics).await;
    assert_eq!(
        other.get(&after).await.expect("get"),
        Some(7),
        "stored in Redis again"
    );
}

#[test]
fn registering_twice_fails_and_keeps_the_first_set() {
    let registry = prometheus::Registry::new();
    let _first = DataCacheMetrics::register(&registry).expect("first");
    let families = registry.gather().len();
    let second = DataCacheMetrics::register(&registry);
    assert!(
        matches!(second, Err(ConfigError::Registry(_))),
        "{second:?}"
    );
    assert_eq!(registry.gather().len(), families);
}
