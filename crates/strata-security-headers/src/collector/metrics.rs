//! Prometheus counters for CSP reports.

use prometheus::{IntCounterVec, Opts, Registry};

use crate::ConfigError;

#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    reports: IntCounterVec,
    rejected: IntCounterVec,
}

impl Metrics {
    pub(crate) fn register(registry: &Registry) -> Result<Self, ConfigError> {
        let err = |source| ConfigError::Metrics { source };
        let reports = IntCounterVec::new(
            Opts::new(
                "strata_csp_reports_total",
                "CSP violations received, by effective directive and disposition.",
            ),
            &["directive", "disposition"],
        )
        .map_err(err)?;
        let rejected = IntCounterVec::new(
            Opts::new(
                "strata_csp_reports_rejected_total",
                "CSP report requests refused, by reason.",
            ),
            &["reason"],
        )
        .map_err(err)?;
        registry.register(Box::new(reports.clone())).map_err(err)?;
        if let Err(source) = registry.register(Box::new(rejected.clone())) {
            let _ = registry.unregister(Box::new(reports));
            return Err(err(source));
        }
        Ok(Self { reports, rejected })
    }

    pub(crate) fn report(&self, directive: &str, disposition: &str) {
        self.reports
            .with_label_values(&[directive, disposition])
            .inc();
    }

    pub(crate) fn rejected(&self, reason: &str) {
        self.rejected.with_label_values(&[reason]).inc();
    }
}
