//! `CacheMetrics`: every outcome counted, registered all or nothing.
#![cfg(feature = "prometheus")]

mod common;

use common::{Origin, get, req, send, service};
use http::Method;
use strata_cache::{CacheLayer, CacheMetrics, MemoryStore};
use strata_core::ConfigError;

fn value(registry: &prometheus::Registry, name: &str, label: Option<(&str, &str)>) -> f64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().to_vec())
        .filter(|m| {
            label.is_none_or(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == k && l.value() == v)
            })
        })
        .map(|m| {
            if m.get_counter().get_value() > 0.0 {
                m.get_counter().get_value()
            } else {
                m.get_histogram().get_sample_count() as f64
            }
        })
        .sum()
}

#[test]
fn registering_twice_fails_and_keeps_only_the_first_set() {
    let registry = prometheus::Registry::new();
    let _metrics = CacheMetrics::register(&registry).expect("first");
    let before = registry.gather().len();
    let again = CacheMetrics::register(&registry);
    assert!(matches!(again, Err(ConfigError::Registry(_))), "{again:?}");
    assert_eq!(registry.gather().len(), before);
}

#[tokio::test(start_paused = true)]
async fn lookups_bytes_and_origin_time_are_counted() {
    let registry = prometheus::Registry::new();
    let metrics = CacheMetrics::register(&registry).expect("register");
    let layer = CacheLayer::builder(MemoryStore::new())
        .metrics(metrics)
        .build()
        .expect("valid");
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&layer, &origin);
    get(&svc, "http://example.com/a").await;
    get(&svc, "http://example.com/a").await;
    get(&svc, "http://example.com/a").await;
    send(&svc, req(Method::POST, "http://example.com/b", &[])).await;
    let outcome = |o| {
        value(
            &registry,
            "strata_cache_lookups_total",
            Some(("outcome", o)),
        )
    };
    assert_eq!(outcome("miss"), 1.0);
    assert_eq!(outcome("hit"), 2.0);
    assert_eq!(outcome("bypass"), 1.0);
    assert_eq!(
        value(
            &registry,
            "strata_cache_bypasses_total",
            Some(("reason", "method"))
        ),
        1.0
    );
    assert_eq!(
        value(&registry, "strata_cache_stored_bytes_total", None),
        6.0
    );
    // The miss; the POST went by.
    assert_eq!(
        value(&registry, "strata_cache_origin_duration_seconds", None),
        1.0
    );
}
