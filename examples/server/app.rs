//! The application: routes and the strata layers in the recommended order.

use std::borrow::Cow;
use std::time::Duration;

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use strata::cache::CacheHandle;
use strata::compression::{CompressionLayer, CompressionMetrics, RequestDecompressionLayer};
use strata::core::guard::AccessGuard;
use strata::core::redis::fred::clients::Pool;
use strata::core::{ClientIp, ClientIpResolver, Problem, ResolveClientIpLayer, TrustedProxies};
use strata::health::checks::RedisCheck;
use strata::health::{Drain, HealthLayer, HealthMetrics, Registration};
use strata::metrics::prometheus::Registry;
use strata::metrics::{MetricsExporter, MetricsHandle, MetricsLayer};
use strata::recorder::RecorderHandle;
use strata::session::SessionAdmin;
use tower::ServiceBuilder;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::account;
use crate::cache;
use crate::config::{AppEnv, Config};
use crate::data::ItemData;
use crate::items::{self, Catalogue};
use crate::limits;
use crate::login;
use crate::problems;
use crate::recorder;
use crate::security;
use crate::sentry;
use crate::session;

/// Any start-up error, shown as one line.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Largest request body the application reads.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The router and the handles the process needs to run it.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) router: Router,
    /// Fails readiness when shutdown starts.
    pub(crate) drain: Drain,
    /// What the recorder kept of `/api` (the admin listener's viewer).
    pub(crate) recorder: RecorderHandle,
    /// What the admin listener's endpoints act on.
    pub(crate) admin: crate::admin_api::Handles,
}

/// What the handlers share.
#[derive(Debug, Clone)]
struct AppState {
    catalogue: Catalogue,
    sessions: SessionAdmin,
    cache: CacheHandle,
    data: ItemData,
}

impl axum::extract::FromRef<AppState> for ItemData {
    fn from_ref(state: &AppState) -> Self {
        state.data.clone()
    }
}

impl axum::extract::FromRef<AppState> for CacheHandle {
    fn from_ref(state: &AppState) -> Self {
        state.cache.clone()
    }
}

impl axum::extract::FromRef<AppState> for SessionAdmin {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

impl axum::extract::FromRef<AppState> for Catalogue {
    fn from_ref(state: &AppState) -> Self {
        state.catalogue.clone()
    }
}

/// Builds the application from its settings and, when `REDIS_URL` is set, the
/// Redis pool every Redis-backed layer shares.
///
/// Layers, outermost first: client address → error tracking → metrics → recorder (`/api`) → request log →
/// security headers → problem+json for every refusal → body deadline → body
/// limit → health (answers probes before anything below can refuse them) →
/// session (and its user reported to error tracking) → rate limit (tiers by
/// the session's user) → compression (the catalogue: cache → compression) →
/// request decompression (decoded bytes capped
/// at the body limit) → routes (CORS on `/api`; `POST /api/login` has its own rate limit
/// inside the tiers).
pub(crate) fn app(config: &Config, redis: Option<&Pool>) -> Result<App, BoxError> {
    app_on(config, redis, Catalogue::sample())
}

/// [`app`] over `catalogue` (instances sharing one stand for instances
/// sharing a database).
pub(crate) fn app_on(
    config: &Config,
    redis: Option<&Pool>,
    catalogue: Catalogue,
) -> Result<App, BoxError> {
    let resolver = ClientIpResolver::new().trusted_proxies(config.trusted_proxies.clone());
    let (metrics_layer, metrics) = MetricsLayer::builder()
        .route_by(health_route)
        .build_info(
            env!("CARGO_PKG_VERSION"),
            option_env!("GIT_COMMIT").unwrap_or("unknown"),
        )
        .pair()?;
    let registry = metrics.registry();
    let (recorder, recorder_handle) = recorder::layer(config, redis, registry)?;
    let (sessions, session_admin) = session::layer(config, redis, registry)?;
    let (health, drain) = health(config, redis, registry, &session_admin)?;
    let (cache, cache_handle) = cache::layer(redis, registry)?;
    let compression = compression(registry)?;
    let data = ItemData::new(catalogue.clone(), config.catalogue_delay, redis, registry)?;
    let state = AppState {
        catalogue,
        sessions: session_admin,
        cache: cache_handle,
        data,
    };
    // The catalogue through the cache, which sits outside compression so it
    // keeps each coding's bytes and a hit costs no compression; the outer
    // compression layer passes encoded responses through. Routed at its
    // full paths, not nested under `/api`: `nest` strips the prefix from
    // the URI the layers inside it see, and the cache keys a resource by
    // that URI, so a purge by the URL clients request would find nothing.
    let catalogue = Router::new()
        .route("/api/items", get(items::list))
        .route("/api/items/{id}", get(items::get).put(items::put))
        .layer(compression.clone())
        .layer(cache)
        .layer(security::cors(config));
    let rate_limit_metrics = limits::metrics(registry)?;
    let rate_limit_stores = limits::Stores::new(config.rate_limit_clock);
    let admin = crate::admin_api::Handles {
        cache: state.cache.clone(),
        sessions: state.sessions.clone(),
        limits: rate_limit_stores.clone(),
        redis: redis.cloned(),
    };
    let api = Router::new()
        .route(
            "/login",
            post(login::login).route_layer(limits::login(
                redis,
                &rate_limit_stores,
                &rate_limit_metrics,
            )?),
        )
        .route("/me", get(account::me))
        .route("/logout", post(account::logout))
        .route(
            "/me/sessions",
            get(account::sessions).delete(account::revoke_others),
        )
        .route("/admin/stats", get(account::admin_stats))
        .merge(sentry::routes(config))
        .layer(security::cors(config));
    // The site answers only `ALLOWED_HOSTS` and, in production behind a TLS
    // proxy, only HTTPS; scrapes and CSP reports are exempt (the exporter
    // has its own guard).
    let site = Router::new()
        .route("/", get(security::index))
        .merge(catalogue)
        .nest("/api", api)
        .layer(tower::util::option_layer(security::https_redirect(config)?))
        .layer(tower::util::option_layer(config.allowed_hosts.clone()));
    let router = Router::new()
        .merge(site)
        .route_service(security::REPORT_PATH, security::collector(registry)?)
        .route_service("/metrics", exporter(config, &metrics)?)
        .fallback(not_found)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(ResolveClientIpLayer::new(resolver))
                .layer(sentry::layer()?)
                .layer(metrics_layer)
                // Just inside metrics: sees what the rest of the stack answered.
                .layer(recorder)
                .layer(tower::util::MapRequestLayer::new(recorder::axum_body))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        .on_failure(log_failure),
                )
                .layer(security::headers(config)?)
                .layer(axum::middleware::map_response(problems::ensure_problem))
                .layer(RequestBodyDeadlineLayer::new(config.serve.body_timeout))
                .layer(RequestBodyLimitLayer::new(MAX_BODY))
                .layer(health)
                .layer(sessions)
                .layer(tower::util::MapRequestLayer::new(recorder::axum_body))
                .layer(axum::middleware::from_fn(recorder::tag_user))
                .layer(tower::util::MapRequestLayer::new(sentry::report_user))
                .layer(limits::layer(
                    redis,
                    &rate_limit_stores,
                    &rate_limit_metrics,
                )?)
                .layer(compression)
                // The cap on decoded bytes; the body limit above counts the
                // encoded ones.
                .layer(
                    RequestDecompressionLayer::builder()
                        .max_size(MAX_BODY as u64)
                        .build()?,
                ),
        );
    Ok(App {
        router,
        drain,
        recorder: recorder_handle,
        admin,
    })
}

/// The health layer answers its paths before axum routes them, so they carry
/// no `MatchedPath`: name them here rather than count them as unmatched.
pub(crate) fn health_route(parts: &Parts) -> Option<Cow<'static, str>> {
    HEALTH_PATHS
        .iter()
        .find(|path| **path == parts.uri.path())
        .map(|path| Cow::Borrowed(*path))
}

const HEALTH_PATHS: [&str; 4] = [
    "/health",
    "/health/live",
    "/health/ready",
    "/health/detailed",
];

/// Response compression with the default codecs and levels, counted in `registry`.
fn compression(registry: &Registry) -> Result<CompressionLayer, BoxError> {
    Ok(CompressionLayer::builder()
        .metrics(CompressionMetrics::register(registry)?)
        .build()?)
}

/// `GET /metrics`: open in development; in production only private networks
/// (where Prometheus scrapes from) may read it.
fn exporter(config: &Config, metrics: &MetricsHandle) -> Result<MetricsExporter, BoxError> {
    let exporter = metrics.exporter();
    Ok(match config.env {
        AppEnv::Production => exporter.guard(private_networks()?),
        AppEnv::Development => exporter,
    })
}

/// Admits private networks only, where Prometheus and the operators are.
fn private_networks() -> Result<AccessGuard, BoxError> {
    Ok(AccessGuard::builder()
        .allow_ips(TrustedProxies::private_networks())
        .build()?)
}

/// `/health`, `/health/live`, `/health/ready`, `/health/detailed`.
///
/// Redis is a non-critical check: every Redis-backed layer degrades on its
/// own, so an outage turns `/health` to `warn` while liveness and readiness
/// stay 200 (failing readiness on a shared dependency would take every
/// instance out of the load balancer at once).
fn health(
    config: &Config,
    redis: Option<&Pool>,
    registry: &Registry,
    sessions: &SessionAdmin,
) -> Result<(HealthLayer, Drain), BoxError> {
    let mut health = HealthLayer::builder()
        .release_id(env!("CARGO_PKG_VERSION"))
        .service_id("strata-example")
        .environment(config.env.as_str())
        .metrics(HealthMetrics::register(registry)?);
    // Details (resource usage, check outputs) are for operators: in
    // production only private networks, where the probes and dashboards are.
    if config.env == AppEnv::Production {
        health = health.guard_details(private_networks()?);
    }
    health = health.register(
        Registration::new("sessions", session::check(sessions))
            .critical(false)
            .timeout(Duration::from_millis(500)),
    );
    if let Some(pool) = redis {
        health = health.register(
            Registration::new("redis", RedisCheck::new(pool.clone()))
                .critical(false)
                .timeout(Duration::from_millis(500)),
        );
    }
    Ok(health.pair()?)
}

/// A 5xx response, logged at `error`.
fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _span: &tracing::Span) {
    let latency_ms = latency.as_millis();
    match class {
        ServerErrorsFailureClass::StatusCode(status) => {
            tracing::error!(latency_ms, status = status.as_u16(), "response failed");
        }
        ServerErrorsFailureClass::Error(error) => {
            tracing::error!(latency_ms, %error, "response failed");
        }
    }
}

/// One span per request, with the client address resolved by `ResolveClientIpLayer`.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map(ToString::to_string)
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        client_ip = %client,
    )
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND).detail("no such route")
}
