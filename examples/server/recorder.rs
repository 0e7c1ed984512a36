//! The request recorder on `/api`: everything kept in development; in
//! production 5xx, exchanges slower than 500 ms and 1 % of the rest. In
//! Redis when `REDIS_URL` is set (every instance's exchanges in one
//! place), otherwise in memory. The viewer is on the admin listener.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use strata::core::redis::fred::clients::Pool;
use strata::metrics::prometheus::Registry;
use strata::recorder::{
    MemoryStore, RecordTags, RecorderHandle, RecorderLayer, RecorderMetrics, RedisStore, Retain,
};
use strata::session::Session;

use crate::app::BoxError;
use crate::config::{AppEnv, Config};

/// The recorder layer and its handle (queries, export, viewer).
pub(crate) fn layer(
    config: &Config,
    redis: Option<&Pool>,
    registry: &Registry,
) -> Result<(RecorderLayer, RecorderHandle), BoxError> {
    let retain = match config.env {
        AppEnv::Development => Retain::all(),
        AppEnv::Production => Retain::none()
            .status_class(5)
            .slower_than(Duration::from_millis(500))
            .sample(0.01),
    };
    let builder = match redis {
        Some(pool) => {
            RecorderLayer::builder().store(RedisStore::new(pool.clone()).prefix("strata:recorder:"))
        }
        None => RecorderLayer::builder().store(MemoryStore::new()),
    };
    Ok(builder
        .retain(retain)
        .path_prefix("/api")
        .metrics(RecorderMetrics::register(registry)?)
        .pair()?)
}

/// Back to axum's body type after a layer wrapped it (the recorder tees
/// it), for the axum middleware (`map_response`, `from_fn`) further in.
pub(crate) fn axum_body<B>(request: Request<B>) -> Request
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    request.map(Body::new)
}

/// Tells the recorder the signed-in user (the session layer knows nothing
/// of the recorder): runs inside the session layer.
pub(crate) async fn tag_user(request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let mut response = next.run(request).await;
    if let Some(user) = session.as_ref().and_then(Session::user) {
        response
            .extensions_mut()
            .insert(RecordTags::new().user(user));
    }
    response
}
