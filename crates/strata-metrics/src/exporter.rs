//! The `/metrics` endpoint.

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use prometheus::{Registry, TextEncoder};
use strata_core::{ClientIp, ClientIpResolver, ConfigError, Problem, TrustedProxies};
use tower_service::Service;

/// Why the exporter refused a request; stored in the response extensions of
/// the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExporterRejection {
    /// A method other than `GET` or `HEAD` (405).
    MethodNotAllowed,
    /// The client address is outside the allow-list, or unknown (403).
    AddressNotAllowed,
    /// The bearer token is missing or wrong (401).
    MissingToken,
}

/// The media type of the Prometheus text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves the text exposition of a registry: `GET` and `HEAD`, with
/// `Content-Type: text/plain; version=0.0.4; charset=utf-8`. Made by
/// [`MetricsHandle::exporter`](crate::MetricsHandle::exporter).
///
/// Open by default. [`allow_ips`](Self::allow_ips) answers 403 to clients
/// outside a CIDR list; [`bearer_token`](Self::bearer_token) answers 401 to
/// requests without `Authorization: Bearer <token>`. With both, a request
/// must pass both. Rejections are `application/problem+json`, with the
/// [`ExporterRejection`] in the response extensions.
///
/// ```
/// use std::net::SocketAddr;
/// use strata_metrics::MetricsLayer;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (_layer, handle) = MetricsLayer::pair()?;
/// let exporter = handle
///     .exporter()
///     .allow_ips("10.0.0.0/8".parse()?)
///     .bearer_token("s3cret")?;
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
#[derive(Clone)]
#[must_use]
pub struct MetricsExporter {
    registry: Registry,
    guard: Arc<Guard>,
}

#[derive(Clone, Default)]
struct Guard {
    allowed: Option<TrustedProxies>,
    resolver: ClientIpResolver,
    token: Option<Box<[u8]>>,
}

impl fmt::Debug for MetricsExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsExporter")
            .field("allowed", &self.guard.allowed)
            .field("resolver", &self.guard.resolver)
            .field("token", &self.guard.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl MetricsExporter {
    /// An open exporter of `registry`.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            guard: Arc::default(),
        }
    }

    /// Serves only clients whose address is in `allowed`; others get 403.
    ///
    /// The address is the [`ClientIp`] a `ResolveClientIpLayer` stored in the
    /// request, else what [`client_ip`](Self::client_ip)'s resolver finds
    /// (default: the peer address). A request with neither is refused.
    pub fn allow_ips(mut self, allowed: TrustedProxies) -> Self {
        Arc::make_mut(&mut self.guard).allowed = Some(allowed);
        self
    }

    /// How the client address is found when no `ResolveClientIpLayer` ran before
    /// the exporter. Default: the peer address, no trusted proxy.
    pub fn client_ip(mut self, resolver: ClientIpResolver) -> Self {
        Arc::make_mut(&mut self.guard).resolver = resolver;
        self
    }

    /// Serves only requests carrying `Authorization: Bearer <token>`; others
    /// get 401 with `WWW-Authenticate: Bearer`. The token must be 1 to 4096
    /// visible ASCII characters. Compared in constant time for a given length.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Result<Self, ConfigError> {
        let token = token.into();
        if token.is_empty() || token.len() > 4096 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::OutOfRange {
                name: "bearer_token",
                reason: "must be 1 to 4096 visible ASCII characters",
            });
        }
        Arc::make_mut(&mut self.guard).token = Some(token.into_bytes().into_boxed_slice());
        Ok(self)
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
        let guard = &*self.guard;
        if let Some(allowed) = &guard.allowed {
            let client = request
                .extensions()
                .get::<ClientIp>()
                .copied()
                .or_else(|| guard.resolver.client_ip(request));
            if !client.is_some_and(|client| allowed.contains(client.ip())) {
                let response = Problem::new(StatusCode::FORBIDDEN)
                    .detail("this address may not read metrics")
                    .into_response();
                return Some((ExporterRejection::AddressNotAllowed, response));
            }
        }
        if let Some(token) = &guard.token
            && !bearer_matches(request, token)
        {
            let mut response = Problem::new(StatusCode::UNAUTHORIZED)
                .detail("a bearer token is required to read metrics")
                .into_response::<Full<Bytes>>();
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return Some((ExporterRejection::MissingToken, response));
        }
        None
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

fn bearer_matches<B>(request: &Request<B>, token: &[u8]) -> bool {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    let Some((scheme, given)) = value.split_at_checked(7) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case(b"bearer ") || given.len() != token.len() {
        return false;
    }
    given
        .iter()
        .zip(token)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
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
