//! Error tracking: `SENTRY_DSN` turns it on (off when unset). Server
//! errors and panics are reported with their route, the signed-in user and
//! the request (credentials and forwarding headers scrubbed);
//! `GET /api/error` (development only) panics to show it.

use axum::Router;
use axum::http::Request;
use axum::routing::get;
use strata::sentry::sentry::{ClientInitGuard, User};
use strata::sentry::{Init, SentryLayer};
use strata::session::Session;

use crate::app::BoxError;
use crate::config::{AppEnv, Config};

/// Starts the client when `SENTRY_DSN` is set, with `APP_ENV` as the
/// environment; call it before the runtime starts. `None`: reporting off.
pub(crate) fn init(config: &Config) -> Result<Option<ClientInitGuard>, String> {
    let init = Init::from_env()
        .environment(config.env.as_str())
        .release(concat!("strata-example@", env!("CARGO_PKG_VERSION")));
    let guard = init
        .init()
        .map_err(|error| format!("invalid SENTRY_DSN: {error}"))?;
    Ok(guard.is_enabled().then_some(guard))
}

/// The layer: routes from axum's `MatchedPath`, the health layer's paths
/// (answered before routing) by the classifier the metrics layer uses too.
pub(crate) fn layer() -> Result<SentryLayer, BoxError> {
    Ok(SentryLayer::builder()
        .route_by(crate::app::health_route)
        .build()?)
}

/// Puts the session's signed-in user on the request's Sentry scope; runs
/// inside the session layer, which loaded the session.
pub(crate) fn report_user<B>(request: Request<B>) -> Request<B> {
    if let Some(user) = request
        .extensions()
        .get::<Session>()
        .and_then(Session::user)
    {
        strata::sentry::set_user(Some(User {
            id: Some(user.clone()),
            username: Some(user),
            ..User::default()
        }));
    }
    request
}

/// `GET /error` in development (a handler that panics); nothing in
/// production, where the path is not found.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(config: &Config) -> Router<S> {
    match config.env {
        AppEnv::Development => Router::new().route("/error", get(fail)),
        AppEnv::Production => Router::new(),
    }
}

async fn fail() -> &'static str {
    panic!("GET /api/error: a handler that fails on purpose")
}
