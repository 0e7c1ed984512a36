//! [`CspReportCollector`]: the endpoint browsers send CSP violations to.

mod bucket;
#[cfg(feature = "prometheus")]
mod metrics;
mod report;
mod service;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderValue;

use self::bucket::Bucket;
pub use self::report::{CspViolation, Disposition, MAX_BATCH_REPORTS, MAX_FIELD_CHARS};
pub use self::service::{CollectorFuture, ReportRejection};
use crate::ConfigError;

/// Default for [`CspReportCollector::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

type Hook = Arc<dyn Fn(&CspViolation) + Send + Sync>;

/// A tower service that receives CSP violation reports.
///
/// It accepts both formats browsers send: `application/csp-report` (one
/// report, for `report-uri`) and `application/reports+json` (a batch, for
/// `report-to` through `Reporting-Endpoints`); `application/json` is read by
/// shape. Each violation is normalised into a [`CspViolation`], logged
/// through `tracing` (target `strata_security_headers::csp`, `warn` when
/// enforced, `info` when report-only), passed to the
/// [`on_report`](Self::on_report) hook, and counted (feature `prometheus`).
///
/// | request | answer |
/// |---|---|
/// | `POST` with a valid report or batch | `204 No Content` |
/// | `OPTIONS` (CORS preflight) | `204` with `Access-Control-Allow-*` |
/// | other methods | `405` problem+json, `Allow: POST, OPTIONS` |
/// | another media type | `415` problem+json |
/// | over the rate limit | `429` problem+json, `Retry-After` |
/// | body over [`max_body_bytes`](Self::max_body_bytes) | `413` problem+json |
/// | malformed JSON or the wrong shape | `400` problem+json |
///
/// Bounds: the body (64 KiB), the batch ([`MAX_BATCH_REPORTS`]), each field
/// ([`MAX_FIELD_CHARS`]), and the request rate (default 100 per second,
/// bursts of 100, across all clients) so a flood of reports cannot flood the
/// logs.
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
/// With axum: `Router::new().route_service("/csp-report", CspReportCollector::new())`.
#[derive(Clone)]
#[must_use]
pub struct CspReportCollector {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    max_body_bytes: usize,
    bucket: Option<Mutex<Bucket>>,
    allowed_origins: Option<Vec<HeaderValue>>,
    hook: Option<Hook>,
    #[cfg(feature = "prometheus")]
    metrics: Option<metrics::Metrics>,
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
            .field("rate_limited", &self.inner.bucket.is_some())
            .field("allowed_origins", &self.inner.allowed_origins)
            .field("hook", &self.inner.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl CspReportCollector {
    /// A collector with the defaults: 64 KiB bodies, 100 requests per second
    /// (bursts of 100), preflights answered for any origin, no hook, no
    /// metrics.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                bucket: Some(Mutex::new(Bucket::new(100, Duration::from_secs(1)))),
                allowed_origins: None,
                hook: None,
                #[cfg(feature = "prometheus")]
                metrics: None,
            }),
        }
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| shared.duplicate());
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The largest body read; a larger one is answered 413 without being
    /// read further. Must be between 1 KiB and 16 MiB.
    pub fn max_body_bytes(self, max: usize) -> Result<Self, ConfigError> {
        if !(1024..=16 * 1024 * 1024).contains(&max) {
            return Err(strata_core::ConfigError::OutOfRange {
                name: "max_body_bytes",
                reason: "must be between 1 KiB and 16 MiB",
            }
            .into());
        }
        Ok(self.with(|inner| inner.max_body_bytes = max))
    }

    /// At most `requests` report requests per `period`, across all clients
    /// (a token bucket holding `requests`); the rest are answered 429.
    /// `requests` must be at least 1 and `period` at least 1 ms.
    pub fn rate_limit(self, requests: u32, period: Duration) -> Result<Self, ConfigError> {
        if requests == 0 || period < Duration::from_millis(1) {
            return Err(strata_core::ConfigError::OutOfRange {
                name: "rate_limit",
                reason: "needs at least 1 request per period of at least 1 ms",
            }
            .into());
        }
        Ok(self.with(|inner| inner.bucket = Some(Mutex::new(Bucket::new(requests, period)))))
    }

    /// No rate limit (only behind another rate-limiting layer).
    pub fn no_rate_limit(self) -> Self {
        self.with(|inner| inner.bucket = None)
    }

    /// Answers CORS requests only from these origins (`https://app.example.com`)
    /// instead of any. Reports carry no credentials, so `*` is safe; a list
    /// only narrows who can make the browser send reports here.
    pub fn allowed_origins<I, T>(self, origins: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut values = Vec::new();
        for origin in origins {
            let origin = origin.as_ref().trim_end_matches('/');
            let value = HeaderValue::from_str(origin)
                .ok()
                .filter(|_| origin.contains("://") && !origin.contains(['*', ' ', ',']));
            values.push(value.ok_or_else(|| {
                ConfigError::value(
                    "allowed origin",
                    origin,
                    "not an origin such as https://example.com",
                )
            })?);
        }
        Ok(self.with(|inner| inner.allowed_origins = Some(values)))
    }

    /// Called with every accepted violation, after it is logged (forward it
    /// to an error tracker, a queue, ...). It runs on the request path: keep
    /// it quick.
    pub fn on_report<F>(self, hook: F) -> Self
    where
        F: Fn(&CspViolation) + Send + Sync + 'static,
    {
        self.with(|inner| inner.hook = Some(Arc::new(hook)))
    }

    /// Counts reports in `registry`: `strata_csp_reports_total{directive,
    /// disposition}` (directive names outside the CSP vocabulary count as
    /// `other`, so the label stays bounded) and
    /// `strata_csp_reports_rejected_total{reason}` (`method`, `media_type`,
    /// `rate`, `too_large`, `malformed`).
    #[cfg(feature = "prometheus")]
    pub fn metrics(self, registry: &prometheus::Registry) -> Result<Self, ConfigError> {
        let metrics = metrics::Metrics::register(registry)?;
        Ok(self.with(|inner| inner.metrics = Some(metrics)))
    }
}

impl Inner {
    fn duplicate(&self) -> Self {
        Self {
            max_body_bytes: self.max_body_bytes,
            bucket: self
                .bucket
                .as_ref()
                .map(|bucket| Mutex::new(bucket::lock(bucket).fresh())),
            allowed_origins: self.allowed_origins.clone(),
            hook: self.hook.clone(),
            #[cfg(feature = "prometheus")]
            metrics: self.metrics.clone(),
        }
    }
}
