//! Prometheus collectors (feature `prometheus`).

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

use crate::store::Inserted;

/// Recorder collectors, registered into a `prometheus::Registry` you supply:
///
/// - `strata_recorder_exchanges_recorded_total`: exchanges that ended.
/// - `strata_recorder_exchanges_kept_total`: exchanges the retention policy kept.
/// - `strata_recorder_exchanges_dropped_total{reason}`: kept exchanges that
///   were not stored: `queue_full`, `over_budget` (one exchange larger than
///   the whole budget), `store_error` (failed or timed out).
/// - `strata_recorder_stored_bytes`: bytes the store held after the last
///   write (for a shared Redis store, what every instance wrote).
/// - `strata_recorder_evictions_total`: exchanges the store evicted for its
///   bounds or TTL.
/// - `strata_recorder_exchanges_unrouted_total`: exchanges recorded
///   without their route template (the recorder wraps the router from
///   outside); not-found answers are not counted.
///
/// Register once, hand clones to every layer that should count into the
/// same series; registering twice into one registry fails with
/// [`ConfigError::Registry`] and leaves nothing of the second attempt.
///
/// ```
/// use strata_core::ConfigError;
/// use strata_recorder::{RecorderLayer, RecorderMetrics};
///
/// let registry = prometheus::Registry::new();
/// let metrics = RecorderMetrics::register(&registry)?;
/// let layer = RecorderLayer::builder().metrics(metrics).build()?;
/// assert!(matches!(RecorderMetrics::register(&registry), Err(ConfigError::Registry(_))));
/// # let _ = layer;
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecorderMetrics {
    recorded: IntCounter,
    kept: IntCounter,
    dropped: IntCounterVec,
    stored_bytes: IntGauge,
    evictions: IntCounter,
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    unrouted: IntCounter,
}

impl RecorderMetrics {
    /// Creates the collectors and registers them into `registry`: all of
    /// them, or none.
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        let metrics = register_all(registry, |r| {
            Ok(Self {
                recorded: r.register(IntCounter::new(
                    "strata_recorder_exchanges_recorded_total",
                    "Exchanges that ended, kept or not.",
                )?)?,
                kept: r.register(IntCounter::new(
                    "strata_recorder_exchanges_kept_total",
                    "Exchanges the retention policy kept.",
                )?)?,
                dropped: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_recorder_exchanges_dropped_total",
                        "Kept exchanges that were not stored, by reason.",
                    ),
                    &["reason"],
                )?)?,
                stored_bytes: r.register(IntGauge::new(
                    "strata_recorder_stored_bytes",
                    "Bytes the recorder's store held after the last write.",
                )?)?,
                evictions: r.register(IntCounter::new(
                    "strata_recorder_evictions_total",
                    "Exchanges the store evicted for its bounds or TTL.",
                )?)?,
                unrouted: r.register(IntCounter::new(
                    "strata_recorder_exchanges_unrouted_total",
                    "Exchanges recorded without their route template.",
                )?)?,
            })
        })?;
        // Every reason shows from the start, at zero.
        for reason in ["queue_full", "over_budget", "store_error"] {
            let _ = metrics.dropped.with_label_values(&[reason]);
        }
        Ok(metrics)
    }

    pub(crate) fn recorded(&self) {
        self.recorded.inc();
    }

    #[cfg(feature = "axum")]
    pub(crate) fn unrouted(&self) {
        self.unrouted.inc();
    }

    pub(crate) fn kept(&self) {
        self.kept.inc();
    }

    pub(crate) fn dropped(&self, reason: &str) {
        self.dropped.with_label_values(&[reason]).inc();
    }

    pub(crate) fn inserted(&self, inserted: &Inserted) {
        self.evictions.inc_by(inserted.evicted);
        self.stored_bytes
            .set(i64::try_from(inserted.bytes).unwrap_or(i64::MAX));
        if !inserted.stored {
            self.dropped("over_budget");
        }
    }
}
