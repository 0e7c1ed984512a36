//! [`CspReportCollectorBuilder`]: the collector's settings, checked once.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use strata_core::ConfigError;

use super::limiter::Limiter;
use super::{CspReportCollector, CspViolation, Hook, Inner};

/// Default for [`CspReportCollectorBuilder::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Default for [`CspReportCollectorBuilder::rate_limit_clients`].
pub const DEFAULT_RATE_LIMIT_CLIENTS: usize = 10_000;

/// Settings for a [`CspReportCollector`]: setters never fail,
/// [`build`](Self::build) checks them all.
///
/// ```
/// use std::time::Duration;
/// use strata_security_headers::CspReportCollector;
///
/// let collector = CspReportCollector::builder()
///     .max_body_bytes(16 * 1024)
///     .rate_limit(10, Duration::from_secs(60))
///     .allowed_origins(["https://app.example.com"])
///     .build()?;
/// # let _ = collector;
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct CspReportCollectorBuilder {
    max_body_bytes: usize,
    /// `(requests, period)`, or `None` for no rate limit.
    rate_limit: Option<(u32, Duration)>,
    max_clients: usize,
    allowed_origins: Option<Vec<String>>,
    hook: Option<Hook>,
    #[cfg(feature = "prometheus")]
    metrics: Option<super::CspReportMetrics>,
}

impl Default for CspReportCollectorBuilder {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            rate_limit: Some((60, Duration::from_secs(60))),
            max_clients: DEFAULT_RATE_LIMIT_CLIENTS,
            allowed_origins: None,
            hook: None,
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }
}

impl std::fmt::Debug for CspReportCollectorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CspReportCollectorBuilder")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("max_clients", &self.max_clients)
            .field("allowed_origins", &self.allowed_origins)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl CspReportCollectorBuilder {
    /// The largest body read; a larger one is answered 413 without being
    /// read further. Must be between 1 KiB and 16 MiB. Default: 64 KiB.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// At most `requests` report requests per `period` **per client
    /// address** (GCRA, bursts of `requests`); the rest are answered 429 with
    /// `Retry-After`. `requests` must be at least 1, `period` at least 1 ms
    /// and at least 1 ns per request. Default: 60 per minute.
    pub fn rate_limit(mut self, requests: u32, period: Duration) -> Self {
        self.rate_limit = Some((requests, period));
        self
    }

    /// How many client addresses the rate limit tracks at once (memory is
    /// about 100 bytes each). Clients whose budget is full again are
    /// forgotten; while `max` clients are mid-budget, new clients share one
    /// budget. Default: [`DEFAULT_RATE_LIMIT_CLIENTS`]. Must be between 1 and
    /// 10 000 000.
    pub fn rate_limit_clients(mut self, max: usize) -> Self {
        self.max_clients = max;
        self
    }

    /// No rate limit (only behind another rate-limiting layer).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// Answers CORS requests only from these origins (`https://app.example.com`)
    /// instead of any. Reports carry no credentials, so `*` is safe; a list
    /// only narrows who can make the browser send reports here. Each must be
    /// an origin with a scheme, checked by [`build`](Self::build).
    pub fn allowed_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let origins = origins.into_iter().map(|o| o.as_ref().to_owned());
        self.allowed_origins = Some(origins.collect());
        self
    }

    /// Called with every accepted violation, after it is logged (forward it
    /// to an error tracker, a queue, ...). It runs on the request path: keep
    /// it quick.
    pub fn on_report<F>(mut self, hook: F) -> Self
    where
        F: Fn(&CspViolation) + Send + Sync + 'static,
    {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Counts reports into `metrics` (feature `prometheus`); one
    /// [`CspReportMetrics`](super::CspReportMetrics) may serve several
    /// collectors.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: super::CspReportMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the collector.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for the first of: `max_body_bytes` outside
    /// 1 KiB to 16 MiB, a `rate_limit` below 1 request per period of at
    /// least 1 ms, `rate_limit_clients` outside 1 to 10 000 000, an entry of
    /// `allowed_origins` that is not an origin such as `https://example.com`.
    pub fn build(self) -> Result<CspReportCollector, ConfigError> {
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::invalid(
                "max_body_bytes",
                "must be between 1 KiB and 16 MiB",
            ));
        }
        let limiter = match self.rate_limit {
            None => None,
            Some((requests, period)) => Some(
                (period >= Duration::from_millis(1))
                    .then(|| Limiter::new(requests, period, self.max_clients))
                    .flatten()
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "rate_limit",
                            "needs at least 1 request per period of at least 1 ms",
                        )
                    })?,
            ),
        };
        if !(1..=10_000_000).contains(&self.max_clients) {
            return Err(ConfigError::invalid(
                "rate_limit_clients",
                "must be between 1 and 10 000 000",
            ));
        }
        let allowed_origins = match self.allowed_origins {
            None => None,
            Some(origins) => Some(
                origins
                    .iter()
                    .map(|origin| parse_origin(origin))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(CspReportCollector {
            inner: Arc::new(Inner {
                max_body_bytes: self.max_body_bytes,
                limiter,
                max_clients: self.max_clients,
                allowed_origins,
                hook: self.hook,
                #[cfg(feature = "prometheus")]
                metrics: self.metrics,
            }),
        })
    }
}

fn parse_origin(origin: &str) -> Result<HeaderValue, ConfigError> {
    let origin = origin.trim_end_matches('/');
    HeaderValue::from_str(origin)
        .ok()
        .filter(|_| origin.contains("://") && !origin.contains(['*', ' ', ',']))
        .ok_or_else(|| {
            ConfigError::invalid(
                "allowed_origins",
                format!("`{origin}` is not an origin such as https://example.com"),
            )
        })
}
