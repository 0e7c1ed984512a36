//! The request handling of [`CspReportCollector`].

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use strata_core::{ClientIp, ClientIpResolver, Problem};
use tower_service::Service;

use super::report::{self, CspViolation};
use super::{CspReportCollector, Inner, log};

/// The response future of [`CspReportCollector`].
pub type CollectorFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> Service<Request<B>> for CspReportCollector
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = CollectorFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let origin = request.headers().get(header::ORIGIN).cloned();
            let mut response = inner.handle(request).await;
            inner.cors(response.headers_mut(), origin.as_ref());
            Ok(response)
        })
    }
}

/// Why [`CspReportCollector`] refused a request; stored in the problem
/// response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportRejection {
    /// Not `POST` or `OPTIONS` (405).
    Method,
    /// Not a report media type (415).
    MediaType,
    /// Over the rate limit (429).
    RateLimited,
    /// Over the body limit (413).
    TooLarge,
    /// Not JSON, or not the shape of a report (400).
    Malformed,
}

impl ReportRejection {
    /// The label used in logs and in
    /// `strata_security_headers_csp_reports_rejected_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Method => "method",
            Self::MediaType => "media_type",
            Self::RateLimited => "rate",
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
        }
    }
}

/// How a report request was refused, with the details for the response.
#[derive(Debug, Clone, Copy)]
enum Rejection {
    Method,
    MediaType,
    Rate(std::time::Duration),
    TooLarge(usize),
    Malformed(&'static str),
}

enum Format {
    Legacy,
    Batch,
    ByShape,
}

impl Inner {
    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        match self.accept(request).await {
            Ok(()) => no_content(),
            Err(rejection) => self.reject(rejection),
        }
    }

    async fn accept<B>(&self, request: Request<B>) -> Result<(), Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        if request.method() == Method::OPTIONS {
            return Ok(());
        }
        if request.method() != Method::POST {
            return Err(Rejection::Method);
        }
        let format = format_of(request.headers()).ok_or(Rejection::MediaType)?;
        if let Some(limiter) = &self.limiter {
            limiter
                .take(client_key(&request))
                .map_err(Rejection::Rate)?;
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(Rejection::TooLarge(self.max_body_bytes));
        }
        let user_agent = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(request.into_body(), self.max_body_bytes)
            .collect()
            .await
            .map_err(|error| {
                if is_too_large(&*error) {
                    Rejection::TooLarge(self.max_body_bytes)
                } else {
                    Rejection::Malformed("the body could not be read")
                }
            })?
            .to_bytes();
        let mut violations = parse(format, &body)?;
        for violation in &mut violations {
            if violation.user_agent.is_none() {
                violation.user_agent = user_agent
                    .as_deref()
                    .map(|ua| ua.chars().take(report::MAX_FIELD_CHARS).collect());
            }
        }
        log::violations(&violations);
        for violation in &violations {
            self.record(violation);
        }
        Ok(())
    }

    /// Counts a logged violation and passes it to the hook.
    fn record(&self, v: &CspViolation) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            let directive = if crate::csp::is_known_directive(&v.effective_directive) {
                v.effective_directive.as_str()
            } else {
                "other"
            };
            metrics.report(
                directive,
                v.disposition.map_or("unknown", report::Disposition::as_str),
            );
        }
        if let Some(hook) = &self.hook {
            hook(v);
        }
    }

    fn reject(&self, rejection: Rejection) -> Response<Full<Bytes>> {
        let (kind, problem) = match rejection {
            Rejection::Method => (
                ReportRejection::Method,
                Problem::new(StatusCode::METHOD_NOT_ALLOWED)
                    .detail("CSP reports are sent with POST"),
            ),
            Rejection::MediaType => (
                ReportRejection::MediaType,
                Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                    .detail("expected application/csp-report or application/reports+json"),
            ),
            Rejection::Rate(_) => (
                ReportRejection::RateLimited,
                Problem::new(StatusCode::TOO_MANY_REQUESTS).detail("too many CSP reports"),
            ),
            Rejection::TooLarge(max) => (
                ReportRejection::TooLarge,
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
                    .detail("the report is larger than this endpoint accepts")
                    .extension("max_bytes", max),
            ),
            Rejection::Malformed(detail) => (
                ReportRejection::Malformed,
                Problem::new(StatusCode::BAD_REQUEST).detail(detail),
            ),
        };
        tracing::debug!(target: "strata_security_headers::csp", reason = kind.as_str(), "CSP report refused");
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.rejected(kind.as_str());
        }
        let mut response = problem.into_response::<Full<Bytes>>();
        response.extensions_mut().insert(kind);
        match rejection {
            Rejection::Method => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            }
            Rejection::Rate(wait) => {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            _ => {}
        }
        response
    }

    /// CORS headers on every answer (the preflight and the POST).
    fn cors(&self, headers: &mut HeaderMap, origin: Option<&HeaderValue>) {
        let allow = match &self.allowed_origins {
            None => Some(HeaderValue::from_static("*")),
            Some(list) => {
                headers.append(header::VARY, HeaderValue::from_static("origin"));
                origin.filter(|o| list.contains(o)).cloned()
            }
        };
        let Some(allow) = allow else { return };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
}

/// The key of the client's report budget: the [`ClientIp`] a `ResolveClientIpLayer`
/// stored, else the peer address, IPv6 cut to `/64`; a request with neither
/// shares the key of unresolved clients.
fn client_key<B>(request: &Request<B>) -> IpAddr {
    request
        .extensions()
        .get::<ClientIp>()
        .copied()
        .or_else(|| ClientIpResolver::new().client_ip(request))
        .unwrap_or(ClientIp::unresolved())
        .masked(64)
}

/// Whether reading the body failed on a length limit: this collector's, or
/// one an outer layer put on the body (tower-http's `RequestBodyLimitLayer`,
/// whose error arrives wrapped, for example in `axum::Error`).
fn is_too_large(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

fn no_content() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

fn format_of(headers: &HeaderMap) -> Option<Format> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim();
    if essence.eq_ignore_ascii_case("application/csp-report") {
        Some(Format::Legacy)
    } else if essence.eq_ignore_ascii_case("application/reports+json") {
        Some(Format::Batch)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Some(Format::ByShape)
    } else {
        None
    }
}

fn parse(format: Format, body: &[u8]) -> Result<Vec<CspViolation>, Rejection> {
    let format = match format {
        Format::ByShape if body.trim_ascii_start().starts_with(b"[") => Format::Batch,
        Format::ByShape => Format::Legacy,
        other => other,
    };
    match format {
        Format::Legacy => report::parse_legacy(body)
            .map(|violation| vec![violation])
            .map_err(|_| Rejection::Malformed("expected a JSON object {\"csp-report\": {...}}")),
        _ => report::parse_batch(body)
            .map(|(violations, _skipped)| violations)
            .map_err(|_| {
                Rejection::Malformed("expected a JSON array of reports with a type and a body")
            }),
    }
}
