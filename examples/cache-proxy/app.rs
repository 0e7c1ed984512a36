//! The proxy's service: a request log, the request-body deadline, the shared
//! cache and the forwarder, behind one catch-all route.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use strata::cache::{CACHE_STATUS, CacheLayer, RedisStore};
use strata::core::ConfigError;
use strata::core::redis::fred::clients::Pool;
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::forward::Forward;

/// Every request, on any path and method, goes through the cache to the
/// upstream; with `redis`, the cache is shared by every instance using it.
pub(crate) fn app(config: &Config, redis: Option<Pool>) -> Result<Router, ConfigError> {
    let cache = match redis {
        Some(pool) => CacheLayer::builder(RedisStore::new(pool)).build()?,
        None => CacheLayer::new(),
    };
    let forward = Forward::new(
        config.upstream.clone(),
        config.connect_timeout,
        config.response_timeout,
    );
    let service = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response),
        )
        .layer(RequestBodyDeadlineLayer::new(config.serve.body_timeout))
        .map_request(|request: Request<_>| request.map(Body::new))
        .layer(cache)
        .service(forward);
    Ok(Router::new().fallback_service(service))
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), uri = %request.uri())
}

/// One line per request: status, latency and what the cache did.
fn log_response<B>(response: &Response<B>, latency: Duration, _span: &tracing::Span) {
    let cache = response
        .headers()
        .get(CACHE_STATUS)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info!(
        status = response.status().as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        cache,
        "response"
    );
}
