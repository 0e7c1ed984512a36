use std::sync::Arc;

use prometheus::{IntCounter, Opts, Registry, proto};

use super::family::{Family, Registered};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

const NAME: &str = "cache_requests_total";
const HELP: &str = "Cache lookups, by cache and result (hit or miss).";

/// `cache_requests_total{cache, result="hit"|"miss"}`: lookups of the
/// caches a service keeps, for the dashboard's hit-ratio panel.
///
/// Register once per registry; any code holding the registry (another
/// crate's cache included) can count into it through [`cache`](Self::cache).
/// At most 100 caches are kept, the rest go to an overflow series.
///
/// ```
/// use strata_metrics::{CacheMetrics, MetricsLayer};
///
/// # fn main() -> Result<(), strata_core::ConfigError> {
/// let (_layer, handle) = MetricsLayer::builder().pair()?;
/// let caches = CacheMetrics::register(handle.registry())?;
/// let users = caches.cache("users");
/// users.hit();
/// users.hit();
/// users.miss();
///
/// let text = handle.render();
/// assert!(text.contains(r#"cache_requests_total{cache="users",result="hit"} 2"#));
/// assert!(text.contains(r#"cache_requests_total{cache="users",result="miss"} 1"#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    family: Arc<Family<IntCounter>>,
}

impl CacheMetrics {
    /// Registers `cache_requests_total` into `registry`. Fails if it is
    /// already there: register once and clone the result.
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        let make = |labels: &[(&str, &str)]| {
            let mut opts = Opts::new(NAME, HELP);
            for (name, value) in labels {
                opts = opts.const_label(*name, *value);
            }
            IntCounter::with_opts(opts)
        };
        let family = register_all(registry, |r| {
            let family = Arc::new(Family::new(
                NAME,
                HELP,
                proto::MetricType::COUNTER,
                vec!["cache", "result"],
                200,
                Box::new(make),
            )?);
            r.register(Registered(Arc::clone(&family)))?;
            Ok(family)
        })?;
        Ok(Self { family })
    }

    /// The counters of the cache `name`, resolved once: counting is then
    /// one atomic add.
    pub fn cache(&self, name: &str) -> CacheCounters {
        CacheCounters {
            hits: self.family.get(&[name, "hit"]),
            misses: self.family.get(&[name, "miss"]),
        }
    }
}

/// The hit and miss counters of one cache, from [`CacheMetrics::cache`].
#[derive(Debug, Clone)]
pub struct CacheCounters {
    hits: IntCounter,
    misses: IntCounter,
}

impl CacheCounters {
    /// Counts a hit.
    pub fn hit(&self) {
        self.hits.inc();
    }

    /// Counts a miss.
    pub fn miss(&self) {
        self.misses.inc();
    }
}
