//! [`CspReportMetrics`]: Prometheus counters for CSP reports.

use prometheus::{IntCounterVec, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

/// Counters for [`CspReportCollector`](crate::CspReportCollector)s
/// (feature `prometheus`), registered into a registry you own; one value may
/// be shared by several collectors.
///
/// | metric | labels | meaning |
/// |---|---|---|
/// | `strata_security_headers_csp_reports_total` | `directive`, `disposition` | violations received |
/// | `strata_security_headers_csp_reports_rejected_total` | `reason` | report requests refused |
///
/// `directive` is the effective directive, `other` for names outside the
/// CSP vocabulary, so the label stays bounded; `disposition` is `enforce`,
/// `report` or `unknown`; `reason` is a
/// [`ReportRejection::as_str`](crate::ReportRejection::as_str) (`method`,
/// `media_type`, `rate`, `too_large`, `malformed`).
///
/// ```
/// use strata_security_headers::{CspReportCollector, CspReportMetrics};
///
/// let registry = prometheus::Registry::new();
/// let metrics = CspReportMetrics::register(&registry)?;
/// let collector = CspReportCollector::builder().metrics(metrics).build()?;
/// # let _ = collector;
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CspReportMetrics {
    reports: IntCounterVec,
    rejected: IntCounterVec,
}

impl CspReportMetrics {
    /// Creates the counters and registers them into `registry`: all of
    /// them, or none.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Registry`] when a collector of the same name is
    /// already registered; then nothing of this call stays registered.
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        register_all(registry, |r| {
            let reports = r.register(IntCounterVec::new(
                Opts::new(
                    "strata_security_headers_csp_reports_total",
                    "CSP violations received, by effective directive and disposition.",
                ),
                &["directive", "disposition"],
            )?)?;
            let rejected = r.register(IntCounterVec::new(
                Opts::new(
                    "strata_security_headers_csp_reports_rejected_total",
                    "CSP report requests refused, by reason.",
                ),
                &["reason"],
            )?)?;
            Ok(Self { reports, rejected })
        })
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
