//! The strata layers: each alone, and the whole stack in the recommended
//! order with every layer's collectors in one registry.

use std::time::Duration;

use strata_cache::{CacheLayer, CacheMetrics, MemoryStore as CacheStore};
use strata_compression::{CompressionLayer, CompressionMetrics};
use strata_core::{ClientIpResolver, ResolveClientIpLayer};
use strata_health::{HealthLayer, HealthMetrics};
use strata_metrics::MetricsLayer;
use strata_metrics::prometheus::Registry;
use strata_rate_limit::{
    HeaderStyle, KeyBy, Policy, Quota, RateLimitLayer, RateLimitMetrics, Rule,
};
use strata_recorder::{MemoryStore as RecorderStore, RecorderLayer, RecorderMetrics, Retain};
use strata_security_headers::SecurityHeadersLayer;
use strata_sentry::SentryLayer;
use strata_session::{MemoryStore as SessionStore, SessionLayer, SessionMetrics};
use tower::ServiceBuilder;

use crate::BoxError;

/// The rate-limit quota of every mode, strata's and the peer's: never
/// exhausted during a run (one unit per 3.6 µs, a billion at once), as in
/// the strata-rate-limit benchmark.
pub(crate) const QUOTA_COUNT: u32 = 1_000_000_000;
/// The period of [`QUOTA_COUNT`].
pub(crate) const QUOTA_PERIOD: Duration = Duration::from_secs(3600);

/// Client IP from the connection (no trusted proxies).
pub(crate) fn client_ip() -> ResolveClientIpLayer {
    ResolveClientIpLayer::new(ClientIpResolver::new())
}

/// Error tracking installed with no DSN: the client is disabled.
pub(crate) fn sentry() -> Result<SentryLayer, BoxError> {
    Ok(SentryLayer::builder().build()?)
}

/// RED metrics; `registry` is where the other layers' collectors go.
pub(crate) fn metrics() -> Result<(MetricsLayer, Registry), BoxError> {
    let (layer, handle) = MetricsLayer::builder().pair()?;
    Ok((layer, handle.registry().clone()))
}

/// The request/response recorder in memory, keeping what the example
/// server keeps in production: 5xx, slower than 500 ms, 1 % of the rest.
pub(crate) fn recorder(registry: Option<&Registry>) -> Result<RecorderLayer, BoxError> {
    let retain = Retain::none()
        .status_class(5)
        .slower_than(Duration::from_millis(500))
        .sample(0.01);
    let mut builder = RecorderLayer::builder()
        .store(RecorderStore::new())
        .retain(retain);
    if let Some(registry) = registry {
        builder = builder.metrics(RecorderMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// Gives the layers inside the recorder axum's body type back (the
/// recorder wraps the request body to tee it).
pub(crate) fn axum_body<B>(request: http::Request<B>) -> http::Request<axum::body::Body>
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    request.map(axum::body::Body::new)
}

/// The strict preset: a nonce CSP (a fresh nonce per response).
pub(crate) fn headers() -> SecurityHeadersLayer {
    SecurityHeadersLayer::strict()
}

/// `/health` and its sub-paths answered by the layer; other paths pass.
pub(crate) fn health(registry: Option<&Registry>) -> Result<HealthLayer, BoxError> {
    let mut builder = HealthLayer::builder();
    if let Some(registry) = registry {
        builder = builder.metrics(HealthMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// Cookie sessions in memory (the requests carry no cookie and the handlers
/// do not touch the session, so no store call).
pub(crate) fn session(registry: Option<&Registry>) -> Result<SessionLayer, BoxError> {
    let mut builder = SessionLayer::builder(SessionStore::new());
    if let Some(registry) = registry {
        builder = builder.metrics(SessionMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// GCRA per client IP in memory, with `headers` on every response.
pub(crate) fn rate_limit(
    headers: HeaderStyle,
    registry: Option<&Registry>,
) -> Result<RateLimitLayer, BoxError> {
    let quota = Quota::new(QUOTA_COUNT, QUOTA_PERIOD);
    let rule = Rule::new(KeyBy::client_ip(), Policy::new("bench", quota));
    let mut builder = RateLimitLayer::builder(rule).headers(headers);
    if let Some(registry) = registry {
        builder = builder.metrics(RateLimitMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// The shared response cache in memory.
pub(crate) fn cache(registry: Option<&Registry>) -> Result<CacheLayer, BoxError> {
    let mut builder = CacheLayer::builder(CacheStore::new());
    if let Some(registry) = registry {
        builder = builder.metrics(CacheMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// Response compression, default codecs and levels (br 4, gzip 4).
pub(crate) fn compression(registry: Option<&Registry>) -> Result<CompressionLayer, BoxError> {
    let mut builder = CompressionLayer::builder();
    if let Some(registry) = registry {
        builder = builder.metrics(CompressionMetrics::register(registry)?);
    }
    Ok(builder.build()?)
}

/// Every layer, outermost first, as `docs/architecture.md` orders them.
///
/// The cache and compression wrap the routes, as in the example server
/// (the cache then sees only routed requests, not probes or 404s).
pub(crate) fn full(router: axum::Router) -> Result<axum::Router, BoxError> {
    let (metrics, registry) = metrics()?;
    let registry = Some(&registry);
    let routes = router.layer(
        ServiceBuilder::new()
            .layer(cache(registry)?)
            .layer(compression(registry)?),
    );
    let stack = ServiceBuilder::new()
        .layer(client_ip())
        .layer(sentry()?)
        .layer(metrics)
        .layer(recorder(registry)?)
        .layer(tower::util::MapRequestLayer::new(axum_body))
        .layer(headers())
        .layer(health(registry)?)
        .layer(session(registry)?)
        .layer(rate_limit(HeaderStyle::Draft10, registry)?);
    Ok(routes.layer(stack))
}
