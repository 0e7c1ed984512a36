//! [`CspReportCollector`]: the endpoint browsers send CSP violations to.

mod limiter;
mod log;
#[cfg(feature = "prometheus")]
mod metrics;
mod report;
mod service;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use self::limiter::Limiter;
pub use self::report::{CspViolation, Disposition, MAX_BATCH_REPORTS, MAX_FIELD_CHARS};
pub use self::service::{CollectorFuture, ReportRejection};
use crate::ConfigError;

/// Default for [`CspReportCollector::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Default for [`CspReportCollector::rate_limit_clients`].
pub const DEFAULT_RATE_LIMIT_CLIENTS: usize = 10_000;

type Hook = Arc<dyn Fn(&CspViolation) + Send + Sync>;

/// A tower service that receives CSP violation reports.
///
/// It accepts both formats browsers send: `application/csp-report` (one
/// report, for `report-uri`) and `application/reports+json` (a batch, for
/// `report-to` through `Reporting-Endpoints`); `application/json` is read by
/// shape. Each violation is normalised into a [`CspViolation`], passed to the
/// [`on_report`](Self::on_report) hook, and counted (feature `prometheus`).
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
/// | body over [`max_body_bytes`](Self::max_body_bytes) | `413` problem+json |
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
/// [`rate_limit_clients`](Self::rate_limit_clients) clients are tracked; while
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
        Self {
            inner: Arc::new(Inner {
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                limiter: Limiter::new(60, Duration::from_secs(60), DEFAULT_RATE_LIMIT_CLIENTS),
                max_clients: DEFAULT_RATE_LIMIT_CLIENTS,
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

    /// At most `requests` report requests per `period` **per client
    /// address** (GCRA, bursts of `requests`); the rest are answered 429 with
    /// `Retry-After`. `requests` must be at least 1, `period` at least 1 ms
    /// and at least 1 ns per request.
    pub fn rate_limit(self, requests: u32, period: Duration) -> Result<Self, ConfigError> {
        let limiter = (period >= Duration::from_millis(1))
            .then(|| Limiter::new(requests, period, self.inner.max_clients))
            .flatten()
            .ok_or(strata_core::ConfigError::OutOfRange {
                name: "rate_limit",
                reason: "needs at least 1 request per period of at least 1 ms",
            })?;
        Ok(self.with(|inner| inner.limiter = Some(limiter)))
    }

    /// How many client addresses the rate limit tracks at once (memory is
    /// about 100 bytes each). Clients whose budget is full again are
    /// forgotten; while `max` clients are mid-budget, new clients share one
    /// budget. Default: [`DEFAULT_RATE_LIMIT_CLIENTS`]. Must be between 1 and
    /// 10 000 000.
    pub fn rate_limit_clients(self, max: usize) -> Result<Self, ConfigError> {
        if !(1..=10_000_000).contains(&max) {
            return Err(strata_core::ConfigError::OutOfRange {
                name: "rate_limit_clients",
                reason: "must be between 1 and 10 000 000",
            }
            .into());
        }
        Ok(self.with(|inner| {
            inner.max_clients = max;
            inner.limiter = inner
                .limiter
                .as_ref()
                .map(|limiter| limiter.with_clients(max));
        }))
    }

    /// No rate limit (only behind another rate-limiting layer).
    pub fn no_rate_limit(self) -> Self {
        self.with(|inner| inner.limiter = None)
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
            limiter: self.limiter.as_ref().map(Limiter::fresh),
            max_clients: self.max_clients,
            allowed_origins: self.allowed_origins.clone(),
            hook: self.hook.clone(),
            #[cfg(feature = "prometheus")]
            metrics: self.metrics.clone(),
        }
    }
}
