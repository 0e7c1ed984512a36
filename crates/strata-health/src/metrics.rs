//! Prometheus collectors (feature `prometheus`).

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntGaugeVec, Opts, Registry};

use crate::{BuildError, Status};

/// One gauge per check and status (1 for the current status, 0 for the
/// others) and a histogram of run durations per check. Label values are the
/// check keys, fixed at build time: cardinality is bounded.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    status: IntGaugeVec,
    duration: HistogramVec,
}

impl Metrics {
    pub(crate) fn register<'a>(
        registry: &Registry,
        keys: impl Iterator<Item = &'a str>,
    ) -> Result<Self, BuildError> {
        let status = IntGaugeVec::new(
            Opts::new(
                "strata_health_check_status",
                "Current status of each health check: 1 for the status it is in, 0 otherwise.",
            ),
            &["check", "status"],
        )
        .map_err(|source| BuildError::Metrics { source })?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "strata_health_check_duration_seconds",
                "Duration of health check runs, timeouts included.",
            )
            .buckets(vec![
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["check"],
        )
        .map_err(|source| BuildError::Metrics { source })?;
        for key in keys {
            for s in Status::ALL {
                status.with_label_values(&[key, s.as_str()]).set(0);
            }
            duration.with_label_values(&[key]);
        }
        registry
            .register(Box::new(status.clone()))
            .map_err(|source| BuildError::Metrics { source })?;
        if let Err(source) = registry.register(Box::new(duration.clone())) {
            // Leave the registry as it was.
            let _ = registry.unregister(Box::new(status));
            return Err(BuildError::Metrics { source });
        }
        Ok(Self { status, duration })
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
