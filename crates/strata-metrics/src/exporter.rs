//! The `/metrics` endpoint.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use prometheus::{Registry, TextEncoder};
use strata_core::Problem;
use strata_core::guard::{AccessGuard, AccessRefusal};
use tower_service::Service;

/// Why the exporter refused a request; stored in the response extensions of
/// the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExporterRejection {
    /// A method other than `GET` or `HEAD` (405).
    MethodNotAllowed,
    /// The client address is outside the guard's allow-list, unresolved,
    /// or unknown (403).
    AddressNotAllowed,
    /// The guard's bearer token is missing or wrong (401).
    MissingToken,
}

/// The media type of the Prometheus text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves the text exposition of a registry: `GET` and `HEAD`, with
/// `Content-Type: text/plain; version=0.0.4; charset=utf-8`. Made by
/// [`MetricsHandle::exporter`](crate::MetricsHandle::exporter).
///
/// Open by default. [`guard`](Self::guard) admits only the requests an
/// [`AccessGuard`] admits: a client outside its allow-list gets 403, a
/// request without its bearer token 401 with `WWW-Authenticate: Bearer`.
/// With both set, a request must pass both ([`GuardRule::All`], the
/// guard's default) or either ([`GuardRule::Any`]). Rejections are
/// `application/problem+json`, with the [`ExporterRejection`] in the response
/// extensions.
///
/// [`GuardRule::All`]: strata_core::guard::GuardRule::All
/// [`GuardRule::Any`]: strata_core::guard::GuardRule::Any
///
/// ```
/// use std::net::SocketAddr;
/// use strata_core::guard::AccessGuard;
/// use strata_metrics::MetricsLayer;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (_layer, handle) = MetricsLayer::builder().pair()?;
/// let guard = AccessGuard::builder()
///     .allow_ips("10.0.0.0/8".parse()?)
///     .bearer_token("s3cret")
///     .build()?;
/// let exporter = handle.exporter().guard(guard);
///
/// let request = http::Request::builder()
///     .uri("/metrics")
///     .header("authorization", "Bearer s3cret")
///     .extension(SocketAddr::from(([10, 0, 0, 7], 9000)))
///     .body(())?;
/// let response = exporter.clone().oneshot(request).await?;
/// assert_eq!(response.status(), 200);
///
/// let outsider = http::Request::builder()
///     .uri("/metrics")
///     .header("authorization", "Bearer s3cret")
///     .extension(SocketAddr::from(([203, 0, 113, 1], 9000)))
///     .body(())?;
/// assert_eq!(exporter.oneshot(outsider).await?.status(), 403);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MetricsExporter {
    registry: Registry,
    guard: Option<Arc<AccessGuard>>,
}

impl MetricsExporter {
    /// An open exporter of `registry` (a handle: the exporter keeps a clone).
    pub fn new(registry: &Registry) -> Self {
        Self {
            registry: registry.clone(),
            guard: None,
        }
    }

    /// Serves only the requests `guard` admits (see the type's docs).
    pub fn guard(mut self, guard: AccessGuard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// The text exposition of the registry.
    pub fn render(&self) -> String {
        render(&self.registry)
    }

    fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        match self.refusal(request) {
            Some((rejection, mut response)) => {
                response.extensions_mut().insert(rejection);
                response
            }
            None => self.exposition(request),
        }
    }

    /// Why and how `request` is refused, if it is.
    fn refusal<B>(
        &self,
        request: &Request<B>,
    ) -> Option<(ExporterRejection, Response<Full<Bytes>>)> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = Problem::new(StatusCode::METHOD_NOT_ALLOWED)
                .detail("the metrics endpoint answers GET and HEAD")
                .into_response::<Full<Bytes>>();
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some((ExporterRejection::MethodNotAllowed, response));
        }
        match self.guard.as_deref().map(|guard| guard.check(request)) {
            None | Some(Ok(())) => None,
            Some(Err(AccessRefusal::Token)) => {
                let mut response = Problem::new(StatusCode::UNAUTHORIZED)
                    .detail("a bearer token is required to read metrics")
                    .into_response::<Full<Bytes>>();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"metrics\""),
                );
                Some((ExporterRejection::MissingToken, response))
            }
            // `AccessRefusal` is non-exhaustive: anything else is an address.
            Some(Err(_)) => {
                let response = Problem::new(StatusCode::FORBIDDEN)
                    .detail("this address may not read metrics")
                    .into_response();
                Some((ExporterRejection::AddressNotAllowed, response))
            }
        }
    }

    fn exposition<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let body = if request.method() == Method::HEAD {
            Bytes::new()
        } else {
            Bytes::from(self.render())
        };
        let mut response = Response::new(Full::new(body));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_CONTENT_TYPE));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

pub(crate) fn render(registry: &Registry) -> String {
    let mut text = String::new();
    // Encoding into a String only fails on families without a name or with
    // an unknown type, which the registry does not hand out.
    if let Err(error) = TextEncoder::new().encode_utf8(&registry.gather(), &mut text) {
        tracing::error!(%error, "could not encode the metrics");
    }
    text
}

impl<B> Service<Request<B>> for MetricsExporter {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&request)))
    }
}
