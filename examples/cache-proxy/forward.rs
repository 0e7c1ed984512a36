//! The origin side: each request goes to the upstream through a pooled
//! HTTP/1.1 client, its response comes back; bodies stream both ways.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{self, HOST};
use axum::http::uri::{Authority, PathAndQuery, Scheme};
use axum::http::{HeaderValue, Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use strata::core::Problem;

use crate::headers::{add_forwarding, append_via, strip_hop_by_hop};

/// Idle upstream connections kept per host.
const MAX_IDLE_PER_HOST: usize = 64;
/// How long an idle upstream connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The service that forwards every request to the upstream.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client<HttpConnector, Body>,
    upstream: Authority,
    response_timeout: Duration,
}

impl Forward {
    /// Forwards to `upstream` (plain HTTP), connecting within
    /// `connect_timeout` and waiting `response_timeout` for a response head.
    pub(crate) fn new(
        upstream: Authority,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .build(connector);
        let inner = Inner {
            client,
            upstream,
            response_timeout,
        };
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl tower::Service<Request<Body>> for Forward {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { Ok(inner.forward(request).await) })
    }
}

impl Inner {
    async fn forward(&self, request: Request<Body>) -> Response<Body> {
        let (mut parts, body) = request.into_parts();
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        // HTTP/2 clients name the host in the target: the upstream reads `Host`.
        if !parts.headers.contains_key(HOST) {
            let authority = parts.uri.authority().map(Authority::as_str);
            if let Some(host) = authority.and_then(|a| HeaderValue::from_str(a).ok()) {
                parts.headers.insert(HOST, host);
            }
        }
        strip_hop_by_hop(&mut parts.headers);
        add_forwarding(&mut parts.headers, client, parts.version);
        let path = parts.uri.path_and_query().cloned();
        parts.uri = match target(&self.upstream, path) {
            Some(uri) => uri,
            None => return problem(StatusCode::BAD_REQUEST, "the request target is not usable"),
        };
        // A new hop: the pooled client speaks HTTP/1.1 to the upstream.
        parts.version = Version::HTTP_11;
        let sent = self.client.request(Request::from_parts(parts, body));
        let response = match tokio::time::timeout(self.response_timeout, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                let timed_out = timed_out(&error);
                tracing::warn!(upstream = %self.upstream, error = %error_chain(&error), "upstream request failed");
                return if timed_out {
                    problem(
                        StatusCode::GATEWAY_TIMEOUT,
                        "the upstream did not accept a connection in time",
                    )
                } else {
                    problem(
                        StatusCode::BAD_GATEWAY,
                        "the upstream is unreachable or closed the connection",
                    )
                };
            }
            Err(_) => {
                tracing::warn!(upstream = %self.upstream, "upstream sent no response head within UPSTREAM_TIMEOUT");
                return problem(
                    StatusCode::GATEWAY_TIMEOUT,
                    "the upstream did not answer in time",
                );
            }
        };
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        append_via(&mut parts.headers, parts.version);
        Response::from_parts(parts, Body::new(body))
    }
}

/// `http://<upstream><path-and-query>`.
fn target(upstream: &Authority, path: Option<PathAndQuery>) -> Option<Uri> {
    Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(upstream.clone())
        .path_and_query(path.unwrap_or_else(|| PathAndQuery::from_static("/")))
        .build()
        .ok()
}

/// A 502/504 in problem+json, never stored (`no-store`).
fn problem(status: StatusCode, detail: &'static str) -> Response<Body> {
    let mut response: Response<Body> = Problem::new(status).detail(detail).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the connection attempt timed out (`UPSTREAM_CONNECT_TIMEOUT`).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// The error and its sources, as one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(error) = source {
        line.push_str(": ");
        line.push_str(&error.to_string());
        source = error.source();
    }
    line
}
