//! The peer crates: each alone, and the whole peer stack in the order of
//! the strata stack (no peer for client IP or health).

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::response::Response;
use axum_prometheus::PrometheusMetricLayer;
use axum_prometheus::metrics_exporter_prometheus::PrometheusHandle;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_cache::MokaManager;
use http_cache_tower_server::{ResponseBody, ServerCacheLayer};
use sentry::integrations::tower::{NewSentryLayer, SentryHttpLayer};
use tower::ServiceBuilder;
use tower::util::MapResponseLayer;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::{MemoryStore, SessionManagerLayer};

use crate::BoxError;
use crate::strata_stack::{QUOTA_COUNT, QUOTA_PERIOD};

/// axum-prometheus installs a process-global recorder: once per process.
static PROMETHEUS: OnceLock<(PrometheusMetricLayer<'static>, PrometheusHandle)> = OnceLock::new();

/// axum-prometheus's layer (its default metrics and recorder).
pub(crate) fn metrics() -> PrometheusMetricLayer<'static> {
    PROMETHEUS
        .get_or_init(PrometheusMetricLayer::pair)
        .0
        .clone()
}

/// helmet's twelve default headers with helmet's values.
const HELMET: [(&str, &str); 12] = [
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;\
         form-action 'self';frame-ancestors 'self';img-src 'self' data:;\
         object-src 'none';script-src 'self';script-src-attr 'none';\
         style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

fn set(i: usize) -> SetHeader {
    let (name, value) = HELMET[i];
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// helmet's headers, one `SetResponseHeaderLayer::if_not_present` each,
/// stacked statically (no boxing), as in the strata-security-headers
/// benchmark.
pub(crate) fn headers(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(set(0))
            .layer(set(1))
            .layer(set(2))
            .layer(set(3))
            .layer(set(4))
            .layer(set(5))
            .layer(set(6))
            .layer(set(7))
            .layer(set(8))
            .layer(set(9))
            .layer(set(10))
            .layer(set(11)),
    )
}

/// tower_governor per peer IP with the strata quota (a burst of
/// `QUOTA_COUNT`, one unit back per `QUOTA_PERIOD / QUOTA_COUNT`), with
/// or without its `x-ratelimit-*` headers.
pub(crate) fn rate_limit(router: Router, with_headers: bool) -> Result<Router, BoxError> {
    let builder = || {
        let mut builder = GovernorConfigBuilder::default();
        builder
            .period(QUOTA_PERIOD / QUOTA_COUNT)
            .burst_size(QUOTA_COUNT);
        builder
    };
    Ok(if with_headers {
        let config = builder().use_headers().finish().ok_or("governor config")?;
        router.layer(GovernorLayer::<_, _, Body>::new(Arc::new(config)))
    } else {
        let config = builder().finish().ok_or("governor config")?;
        router.layer(GovernorLayer::<_, _, Body>::new(Arc::new(config)))
    })
}

/// tower-sessions with its memory store.
pub(crate) fn session() -> SessionManagerLayer<MemoryStore> {
    SessionManagerLayer::new(MemoryStore::default())
}

/// http-cache-tower-server with its moka manager, its errors (boxed) as
/// 500s and its body as axum's.
pub(crate) fn cache(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|_: BoxError| {
                std::future::ready(StatusCode::INTERNAL_SERVER_ERROR)
            }))
            .layer(MapResponseLayer::new(|r: Response<ResponseBody>| {
                r.map(Body::new)
            }))
            .layer(ServerCacheLayer::new(MokaManager::default())),
    )
}

/// tower-http compression at its default levels (br 4, gzip 4: strata's).
pub(crate) fn compression() -> CompressionLayer {
    CompressionLayer::new()
}

/// sentry-tower's pair (a hub per request, transactions), no DSN.
pub(crate) fn sentry(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(NewSentryLayer::<Request<Body>>::new_from_top())
            .layer(SentryHttpLayer::new().enable_transaction()),
    )
}

/// The whole peer stack, outermost first: sentry → metrics → headers →
/// session → rate limit (headers on) → cache → compression → handler.
pub(crate) fn full(router: Router) -> Result<Router, BoxError> {
    let inner = cache(router.layer(compression()));
    let limited = rate_limit(inner, true)?;
    Ok(sentry(headers(limited.layer(session())).layer(metrics())))
}
