//! A store that fails or hangs: requests go to the origin (bypass),
//! counted, never a 5xx of the cache's own, never a hang.

mod common;

use std::time::Duration;

use common::{Origin, get, service};
use strata_cache::{CacheKey, CacheLayer, Entry, Lookup, Store, StoreError};

/// Fails every call at once.
#[derive(Debug)]
struct Failing;

/// Never answers.
#[derive(Debug)]
struct Hanging;

macro_rules! store {
    ($t:ty, $body:expr) => {
        impl Store for $t {
            async fn get(&self, _: &CacheKey, _: &str) -> Result<Lookup, StoreError> {
                $body
            }
            async fn put(
                &self,
                _: &CacheKey,
                _: &str,
                _: Entry,
                _: Duration,
            ) -> Result<(), StoreError> {
                $body
            }
            async fn purge(&self, _: &CacheKey) -> Result<(), StoreError> {
                $body
            }
            async fn purge_tag(&self, _: &str) -> Result<u64, StoreError> {
                $body
            }
            async fn soft_purge(&self, _: &CacheKey) -> Result<(), StoreError> {
                $body
            }
            async fn soft_purge_tag(&self, _: &str) -> Result<u64, StoreError> {
                $body
            }
        }
    };
}
store!(Failing, Err(StoreError::Disconnected));
store!(Hanging, std::future::pending().await);

#[tokio::test(start_paused = true)]
async fn a_failing_store_sends_requests_to_the_origin() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(
        &CacheLayer::builder(Failing).build().expect("valid"),
        &origin,
    );
    for n in 1..=3 {
        let got = get(&svc, "http://example.com/").await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, format!("body-{n}"));
        assert_eq!(
            got.cache_status(),
            "strata; fwd=bypass; fwd-status=200; detail=store-unavailable"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_hanging_store_costs_at_most_its_timeout() {
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let layer = CacheLayer::builder(Hanging)
        .store_timeout(Duration::from_millis(20))
        .build()
        .expect("valid");
    let svc = service(&layer, &origin);
    let started = tokio::time::Instant::now();
    let got = get(&svc, "http://example.com/").await;
    assert_eq!(got.status, 200);
    assert!(got.cache_status().contains("fwd=bypass"));
    // Paused clock: exactly the timeout, not a moment of real time.
    assert_eq!(started.elapsed(), Duration::from_millis(20));
}

#[cfg(feature = "prometheus")]
#[tokio::test(start_paused = true)]
async fn store_errors_are_counted() {
    let registry = prometheus::Registry::new();
    let metrics = strata_cache::CacheMetrics::register(&registry).expect("register");
    let svc = service(
        &CacheLayer::builder(Failing)
            .metrics(metrics)
            .build()
            .expect("valid"),
        &Origin::with_headers(&[]),
    );
    get(&svc, "http://example.com/").await;
    get(&svc, "http://example.com/").await;
    let errors: f64 = registry
        .gather()
        .iter()
        .filter(|f| f.name() == "strata_cache_store_errors_total")
        .map(|f| f.get_metric()[0].get_counter().get_value())
        .sum();
    assert_eq!(errors, 2.0);
}
