//! Prometheus collectors of the data cache (feature `prometheus`).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

/// Collectors of [`DataCache`](crate::DataCache)s and
/// [`TieredStore`](crate::TieredStore)s, registered into a
/// `prometheus::Registry` you supply:
///
/// - `strata_cache_data_lookups_total{tier,outcome}`: lookups by the tier
///   that answered (`memory`, `shared`; a miss is counted at the last tier
///   asked, so on a two-tier store every `shared` lookup missed memory)
///   and `hit` / `miss`.
/// - `strata_cache_data_loads_total`: loader runs (misses and refreshes).
/// - `strata_cache_data_coalesced_total`: calls that waited for another
///   caller's load (in process or on another instance) instead of loading.
/// - `strata_cache_data_loader_errors_total`: loader failures and timeouts.
/// - `strata_cache_data_stale_total`: stale values served because the
///   loader failed.
/// - `strata_cache_data_store_errors_total`: store calls that failed or
///   timed out (the loader then serves).
/// - `strata_cache_data_invalidations_total{direction}`: memory-tier
///   invalidations `sent`, `received`, or `failed` to send.
///
/// ```
/// use strata_cache::DataCacheMetrics;
/// use strata_core::ConfigError;
///
/// let registry = prometheus::Registry::new();
/// let metrics = DataCacheMetrics::register(&registry)?;
/// assert!(matches!(DataCacheMetrics::register(&registry), Err(ConfigError::Registry(_))));
/// # let _ = metrics;
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataCacheMetrics {
    lookups: IntCounterVec,
    loads: IntCounter,
    coalesced: IntCounter,
    loader_errors: IntCounter,
    stale: IntCounter,
    store_errors: IntCounter,
    invalidations: IntCounterVec,
}

impl DataCacheMetrics {
    /// Creates the collectors and registers them into `registry`: all of
    /// them, or none (a name already registered is
    /// [`ConfigError::Registry`]).
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        let counter = |name: &str, help: &str| IntCounter::new(name, help);
        register_all(registry, |r| {
            Ok(Self {
                lookups: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_cache_data_lookups_total",
                        "Data cache lookups by answering tier and outcome.",
                    ),
                    &["tier", "outcome"],
                )?)?,
                loads: r.register(counter(
                    "strata_cache_data_loads_total",
                    "Data cache loader runs.",
                )?)?,
                coalesced: r.register(counter(
                    "strata_cache_data_coalesced_total",
                    "Data cache calls that waited for another caller's load.",
                )?)?,
                loader_errors: r.register(counter(
                    "strata_cache_data_loader_errors_total",
                    "Data cache loader failures and timeouts.",
                )?)?,
                stale: r.register(counter(
                    "strata_cache_data_stale_total",
                    "Stale data cache values served because the loader failed.",
                )?)?,
                store_errors: r.register(counter(
                    "strata_cache_data_store_errors_total",
                    "Data cache store calls that failed or timed out.",
                )?)?,
                invalidations: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_cache_data_invalidations_total",
                        "Memory-tier invalidations sent, received or failed to send.",
                    ),
                    &["direction"],
                )?)?,
            })
        })
    }

    pub(crate) fn lookup(&self, tier: &str, outcome: &str) {
        self.lookups.with_label_values(&[tier, outcome]).inc();
    }

    pub(crate) fn load(&self) {
        self.loads.inc();
    }

    pub(crate) fn coalesced(&self) {
        self.coalesced.inc();
    }

    pub(crate) fn loader_error(&self) {
        self.loader_errors.inc();
    }

    pub(crate) fn stale(&self) {
        self.stale.inc();
    }

    pub(crate) fn store_error(&self) {
        self.store_errors.inc();
    }

    pub(crate) fn invalidation(&self, direction: &str) {
        self.invalidations.with_label_values(&[direction]).inc();
    }
}
