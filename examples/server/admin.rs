//! The admin listener (`ADMIN_PORT`): CPU profiles and tokio runtime
//! metrics, and the operators' endpoints (`/admin/...`, see
//! [`crate::admin_api`]) on 127.0.0.1, behind `ADMIN_TOKEN` when it is set.

use axum::Router;
use strata::profiling::{AdminListener, ProfilingService};
use tokio::task::JoinHandle;

/// The admin routes: `/debug/pprof/profile`, `/debug/pprof/flamegraph`,
/// `/debug/runtime`, and the operators' `/admin/...` endpoints.
pub(crate) fn router(handles: crate::admin_api::Handles) -> Router {
    Router::new()
        .route_service("/debug/{*path}", ProfilingService::new())
        .merge(crate::admin_api::router(handles))
}

/// Binds and serves the admin listener in the background; the task ends
/// when aborted (at shutdown).
pub(crate) async fn spawn(
    listener: AdminListener,
    handles: crate::admin_api::Handles,
) -> Result<JoinHandle<()>, String> {
    let bound = listener
        .bind()
        .await
        .map_err(|error| format!("cannot listen on ADMIN_PORT: {error}"))?;
    let addr = bound
        .local_addr()
        .map_err(|error| format!("admin listener: {error}"))?;
    tracing::info!(%addr, "admin listener (profiling, runtime metrics)");
    Ok(tokio::spawn(async move {
        if let Err(error) = bound.serve(router(handles), std::future::pending()).await {
            tracing::error!(%error, "admin listener stopped");
        }
    }))
}
