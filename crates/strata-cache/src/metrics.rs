//! Prometheus collectors (feature `prometheus`).

use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

/// Collectors of cache layers, registered into a `prometheus::Registry`
/// you supply:
///
/// - `strata_cache_lookups_total{outcome}`: `hit`, `miss`, `stale` (served
///   stale: `stale-while-revalidate`, `stale-if-error`, `max-stale`),
///   `revalidated` (a `304` from the origin freshened the entry),
///   `collapsed` (answered by another request's fill), `bypass`.
/// - `strata_cache_bypasses_total{reason}`: `method`, `no-authority`,
///   `range`, `no-store` (the request's), `store-error`.
/// - `strata_cache_stored_bytes_total`: body bytes written to the store.
/// - `strata_cache_evictions_total`: entries the memory store evicted for
///   space or expiry.
/// - `strata_cache_store_errors_total`: store calls that failed or timed out.
/// - `strata_cache_origin_duration_seconds`: time to the origin's response
///   head, for the requests the cache sends (misses, revalidations and
///   background refreshes; not bypasses).
///
/// The hit ratio of `docs/ops` (dashboard panel and `CacheHitRatioLow`
/// alert) is the share of lookups answered from the cache (`hit`,
/// `stale`, `collapsed`) among all but `bypass`.
///
/// ```
/// use strata_cache::CacheMetrics;
/// use strata_core::ConfigError;
///
/// let registry = prometheus::Registry::new();
/// let metrics = CacheMetrics::register(&registry)?;
/// assert!(matches!(CacheMetrics::register(&registry), Err(ConfigError::Registry(_))));
/// # let _ = metrics;
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    lookups: IntCounterVec,
    bypasses: IntCounterVec,
    stored_bytes: IntCounter,
    evictions: IntCounter,
    store_errors: IntCounter,
    origin: Histogram,
}

impl CacheMetrics {
    /// Creates the collectors and registers them into `registry`: all of
    /// them, or none (a name already registered is
    /// [`ConfigError::Registry`]).
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        register_all(registry, |r| {
            Ok(Self {
                lookups: r.register(IntCounterVec::new(
                    Opts::new("strata_cache_lookups_total", "Cache lookups by outcome."),
                    &["outcome"],
                )?)?,
                bypasses: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_cache_bypasses_total",
                        "Requests that bypassed the cache, by reason.",
                    ),
                    &["reason"],
                )?)?,
                stored_bytes: r.register(IntCounter::new(
                    "strata_cache_stored_bytes_total",
                    "Body bytes written to the cache store.",
                )?)?,
                evictions: r.register(IntCounter::new(
                    "strata_cache_evictions_total",
                    "Entries the memory store evicted for space or expiry.",
                )?)?,
                store_errors: r.register(IntCounter::new(
                    "strata_cache_store_errors_total",
                    "Cache store calls that failed or timed out.",
                )?)?,
                origin: r.register(Histogram::with_opts(
                    HistogramOpts::new(
                        "strata_cache_origin_duration_seconds",
                        "Time from sending a request to the origin to its response head.",
                    )
                    .buckets(vec![
                        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ]),
                )?)?,
            })
        })
    }

    pub(crate) fn lookup(&self, outcome: &str) {
        self.lookups.with_label_values(&[outcome]).inc();
    }

    pub(crate) fn bypass(&self, reason: &str) {
        self.bypasses.with_label_values(&[reason]).inc();
    }

    pub(crate) fn stored(&self, bytes: usize) {
        self.stored_bytes.inc_by(bytes as u64);
    }

    pub(crate) fn evicted(&self, _bytes: u64) {
        self.evictions.inc();
    }

    pub(crate) fn store_error(&self) {
        self.store_errors.inc();
    }

    pub(crate) fn origin(&self, duration: Duration) {
        self.origin.observe(duration.as_secs_f64());
    }
}
