//! [`CspReportCollector`]: the endpoint browsers send CSP violations to.

mod config;
mod limiter;
mod log;
#[cfg(feature = "prometheus")]
mod metrics;
mod report;
mod service;

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;

pub use self::config::{
    CspReportCollectorBuilder, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT_CLIENTS,
};
use self::limiter::Limiter;
#[cfg(feature = "prometheus")]
pub use self::metrics::CspReportMetrics;
pub use self::report::{CspViolation, Disposition, MAX_BATCH_REPORTS, MAX_FIELD_CHARS};
pub use self::service::{CollectorFuture, ReportRejection};

type Hook = Arc<dyn Fn(&CspViolation) + Send + Sync>;

/// A tower service that receives CSP violation reports.
///
/// It accepts both formats browsers send: `application/csp-report` (one
/// report, for `report-uri`) and `application/reports+json` (a batch, for
/// `report-to` through `Reporting-Endpoints`); `application/json` is read by
/// shape. Each violation is normalised into a [`CspViolation`], passed to the
/// [`on_report`](CspReportCollectorBuilder::on_report) hook, and counted
/// (feature `prometheus`, [`CspReportMetrics`]).
/// Each request is logged as **one** `tracing` event (target
/// `strata_security_headers::csp`, `warn` when a violation was enforced,
/// `info` when all were report-only) with the `count` of violations, the
/// first one's fields and short summaries of two more; every string from the
/// report is escaped (`\n`, `\u{1b}`, ...), so a report cannot forge log
/// lines or send terminal escapes.
///
/// | request | answer |
/// |---|---|
/// | `POST` with a valid report or batch | `204 No Content` |
/// | `OPTIONS` (CORS preflight) | `204` with `Access-Control-Allow-*` |
/// | other methods | `405` problem+json, `Allow: POST, OPTIONS` |
/// | another media type | `415` problem+json |
/// | over the rate limit | `429` problem+json, `Retry-After` |
/// | body over [`max_body_bytes`](CspReportCollectorBuilder::max_body_bytes) | `413` problem+json |
/// | malformed JSON or the wrong shape | `400` problem+json |
///
/// Bounds: the body (64 KiB, also when the body is streamed or cut by an
/// outer `RequestBodyLimitLayer`), the batch ([`MAX_BATCH_REPORTS`]), each
/// field ([`MAX_FIELD_CHARS`]), and the request rate **per client address**
/// (default 60 per minute, bursts of 60), so one client cannot flood the logs
/// nor use up the budget of others. The address is the
/// [`ClientIp`](strata_core::ClientIp) a
/// [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) stored, else the peer
/// address (IPv6 by `/64`); requests with neither share one budget. At most
/// [`rate_limit_clients`](CspReportCollectorBuilder::rate_limit_clients) clients are tracked; while
/// that many are mid-budget, new clients share one extra budget (logged once).
///
/// ```
/// use http::{Request, StatusCode};
/// use strata_security_headers::CspReportCollector;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let collector = CspReportCollector::new();
/// let report = r#"{"csp-report":{"document-uri":"https://example.com/",
///     "violated-directive":"script-src-elem","blocked-uri":"inline"}}"#;
/// let request = Request::post("/csp-report")
///     .header("content-type", "application/csp-report")
///     .body(http_body_util::Full::new(bytes::Bytes::from(report)))?;
/// let response = collector.clone().oneshot(request).await?;
/// assert_eq!(response.status(), StatusCode::NO_CONTENT);
///
/// let junk = Request::post("/csp-report")
///     .header("content-type", "text/plain")
///     .body(http_body_util::Full::new(bytes::Bytes::from("hi")))?;
/// let response = collector.oneshot(junk).await?;
/// assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
/// # Ok(())
/// # }
/// ```
///
/// Adjust the defaults with [`CspReportCollector::builder`].
///
/// With axum: `Router::new().route_service("/csp-report", CspReportCollector::new())`.
#[derive(Clone)]
#[must_use]
pub struct CspReportCollector {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    max_body_bytes: usize,
    limiter: Option<Limiter>,
    max_clients: usize,
    allowed_origins: Option<Vec<HeaderValue>>,
    hook: Option<Hook>,
    #[cfg(feature = "prometheus")]
    metrics: Option<CspReportMetrics>,
}

impl Default for CspReportCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CspReportCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CspReportCollector")
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("rate_limited", &self.inner.limiter.is_some())
            .field("max_clients", &self.inner.max_clients)
            .field("allowed_origins", &self.inner.allowed_origins)
            .field("hook", &self.inner.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl CspReportCollector {
    /// A collector with the defaults: 64 KiB bodies, 60 requests per minute
    /// per client (bursts of 60) for up to 10 000 clients, preflights
    /// answered for any origin, no hook, no metrics.
    pub fn new() -> Self {
        match CspReportCollectorBuilder::default().build() {
            Ok(collector) => collector,
            // The defaults hold no setting that can fail.
            Err(_) => unreachable!("the default collector settings are valid"),
        }
    }

    /// A builder starting from the defaults of [`new`](Self::new).
    pub fn builder() -> CspReportCollectorBuilder {
        CspReportCollectorBuilder::default()
    }
}
