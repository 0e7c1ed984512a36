//! Prometheus collectors (feature `prometheus`).

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntGaugeVec, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

use crate::Status;

/// Bucket bounds of `strata_health_check_duration_seconds`, in seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The health metrics: `strata_health_check_status{check, status}`, one
/// gauge per check and status (1 for the current status, 0 for the others),
/// and `strata_health_check_duration_seconds{check}`, a histogram of run
/// durations (timeouts included). Label values are the check keys, fixed
/// when each layer is built: cardinality is bounded.
///
/// Register once per registry and give clones to every layer
/// ([`HealthBuilder::metrics`](crate::HealthBuilder::metrics)). Feature
/// `prometheus`.
///
/// ```
/// use prometheus::Registry;
/// use strata_core::ConfigError;
/// use strata_health::{HealthLayer, HealthMetrics, check_fn};
///
/// let registry = Registry::new();
/// let metrics = HealthMetrics::register(&registry)?;
/// let layer = HealthLayer::builder()
///     .check("db", check_fn(|| async { Ok::<_, std::io::Error>(()) }))
///     .metrics(metrics.clone())
///     .build()?;
/// # drop(layer);
///
/// // A second registration into the same registry is refused.
/// let again = HealthMetrics::register(&registry);
/// assert!(matches!(again, Err(ConfigError::Registry(_))));
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HealthMetrics {
    status: IntGaugeVec,
    duration: HistogramVec,
}

impl HealthMetrics {
    /// Registers both collectors into `registry`, or neither:
    /// [`ConfigError::Registry`] when a name is already registered (register
    /// once and clone the result).
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        register_all(registry, |r| {
            let status = r.register(IntGaugeVec::new(
                Opts::new(
                    "strata_health_check_status",
                    "Current status of each health check: 1 for the status it is in, 0 otherwise.",
                ),
                &["check", "status"],
            )?)?;
            let duration = r.register(HistogramVec::new(
                HistogramOpts::new(
                    "strata_health_check_duration_seconds",
                    "Duration of health check runs, timeouts included.",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
                &["check"],
            )?)?;
            Ok(Self { status, duration })
        })
    }

    /// Creates the series of `keys`, so they show before the first run.
    pub(crate) fn announce<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        for key in keys {
            for s in Status::ALL {
                self.status.with_label_values(&[key, s.as_str()]);
            }
            self.duration.with_label_values(&[key]);
        }
    }

    pub(crate) fn record(&self, key: &str, current: Status, elapsed: Duration) {
        for s in Status::ALL {
            self.status
                .with_label_values(&[key, s.as_str()])
                .set(i64::from(s == current));
        }
        self.duration
            .with_label_values(&[key])
            .observe(elapsed.as_secs_f64());
    }
}
