//! Prometheus collectors (feature `prometheus`).

use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

use crate::observe::Event;

/// Session collectors, registered into a `prometheus::Registry` you supply:
///
/// - `strata_session_events_total{event}`: `created`, `rotated`,
///   `signed_out`, `revoked`, `expired` (found ended on read), `bad_cookie`
///   (junk, repeated or unknown ids), `cross_site_refused`, `unavailable`
///   (requests that went on as anonymous or got 503 because the store
///   failed), `write_refused` (a write to a record deleted or rotated away
///   in the meantime: dropped, never written back).
/// - `strata_session_store_errors_total{op}`: failed or timed-out store
///   calls, by operation (`load`, `create`, `update`, `delete`, `list`).
/// - `strata_session_store_duration_seconds{op}`: store call latency.
///
/// Register once and hand clones to every layer and admin handle that
/// should count into the same series. Registering twice into one registry
/// fails with [`ConfigError::Registry`] and leaves nothing of the second
/// attempt registered.
///
/// ```
/// use strata_core::ConfigError;
/// use strata_session::SessionMetrics;
///
/// let registry = prometheus::Registry::new();
/// let metrics = SessionMetrics::register(&registry)?;
/// assert!(matches!(SessionMetrics::register(&registry), Err(ConfigError::Registry(_))));
/// # let _ = metrics;
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionMetrics {
    events: IntCounterVec,
    store_errors: IntCounterVec,
    store_duration: HistogramVec,
}

impl SessionMetrics {
    /// Creates the collectors and registers them into `registry`: all of
    /// them, or none (a name already registered is
    /// [`ConfigError::Registry`]).
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        register_all(registry, |r| {
            Ok(Self {
                events: r.register(IntCounterVec::new(
                    Opts::new("strata_session_events_total", "Session lifecycle events."),
                    &["event"],
                )?)?,
                store_errors: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_session_store_errors_total",
                        "Session store calls that failed or timed out.",
                    ),
                    &["op"],
                )?)?,
                store_duration: r.register(HistogramVec::new(
                    HistogramOpts::new(
                        "strata_session_store_duration_seconds",
                        "Session store call latency.",
                    )
                    .buckets(vec![
                        0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                    ]),
                    &["op"],
                )?)?,
            })
        })
    }

    pub(crate) fn event(&self, event: Event) {
        self.events.with_label_values(&[event.label()]).inc();
    }

    pub(crate) fn store_call(&self, op: &'static str, took: Duration, failed: bool) {
        let histogram: Histogram = self.store_duration.with_label_values(&[op]);
        histogram.observe(took.as_secs_f64());
        if failed {
            let counter: IntCounter = self.store_errors.with_label_values(&[op]);
            counter.inc();
        }
    }
}
