//! The admin listener (`ADMIN_PORT`): CPU profiles, tokio runtime
//! metrics, the recorder's viewer and the operators' endpoints
//! (`/admin/...`, see [`crate::admin_api`]) on 127.0.0.1, behind
//! `ADMIN_TOKEN` when it is set.

use std::net::SocketAddr;

use axum::Router;
use strata::profiling::{AdminListener, ProfilingService};
use strata::recorder::RecorderViewer;
use tokio::task::JoinHandle;

/// The admin routes: `/debug/pprof/profile`, `/debug/pprof/flamegraph`,
/// `/debug/runtime`, the recorder's viewer under `/recorder/`, and the
/// operators' `/admin/...` endpoints.
pub(crate) fn router(handles: crate::admin_api::Handles, recorder: RecorderViewer) -> Router {
    Router::new()
        .route_service("/debug/{*path}", ProfilingService::new())
        .nest_service("/recorder", recorder)
        .merge(crate::admin_api::router(handles))
}

/// Binds and serves the admin listener in the background; the bound
/// address (`ADMIN_PORT=0` picks a free port) and the task, which ends
/// when aborted (at shutdown).
pub(crate) async fn spawn(
    listener: AdminListener,
    handles: crate::admin_api::Handles,
    recorder: RecorderViewer,
) -> Result<(SocketAddr, JoinHandle<()>), String> {
    let bound = listener
        .bind()
        .await
        .map_err(|error| format!("cannot listen on ADMIN_PORT: {error}"))?;
    let addr = bound
        .local_addr()
        .map_err(|error| format!("admin listener: {error}"))?;
    tracing::info!(%addr, "admin listener (profiling, runtime metrics)");
    let task = tokio::spawn(async move {
        if let Err(error) = bound
            .serve(router(handles, recorder), std::future::pending())
            .await
        {
            tracing::error!(%error, "admin listener stopped");
        }
    });
    Ok((addr, task))
}
