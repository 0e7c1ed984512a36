//! The strata demo server: every layer composed in the recommended order.
//!
//! ```text
//! cargo run --release --example server
//! ```
//!
//! Settings come from the environment (`BIND`, `PORT`, `REDIS_URL`, `APP_ENV`,
//! `TRUSTED_PROXIES`, `SENTRY_DSN`, `LOG_DIR`, `RUST_LOG`, the connection
//! bounds...); see `docs/example-server.md`. A bad value stops start-up with
//! one line naming the variable.

mod account;
mod admin;
mod admin_api;
mod app;
mod cache;
mod config;
mod data;
mod item_id;
mod items;
mod limits;
mod logging;
mod login;
mod problems;
mod recorder;
mod security;
mod sentry;
mod serve;
mod serve_config;
mod session;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use strata::core::redis::fred::clients::Pool;
use strata::health::Drain;
use tokio::net::TcpListener;

use crate::app::{App, app};
use crate::config::Config;

/// Resolves on ctrl-c or SIGTERM, after failing readiness and waiting
/// `drain_for`, so load balancers stop sending new requests before the
/// listener closes; in-flight requests then finish (within
/// `SHUTDOWN_TIMEOUT`).
async fn shutdown_signal(drain: Drain, drain_for: Duration) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    drain.drain();
    tracing::info!(
        drain_seconds = drain_for.as_secs_f64(),
        "shutting down: readiness fails, then in-flight requests finish"
    );
    tokio::time::sleep(drain_for).await;
}

async fn run(config: Config) -> Result<(), String> {
    // Held until the end: dropping it writes out the queued log lines.
    let _log_guard = logging::init(&config)?;
    let redis = match &config.redis {
        Some(builder) => Some(
            builder
                .clone()
                .connect()
                .await
                .map_err(|error| format!("invalid REDIS_URL: {error}"))?,
        ),
        None => None,
    };
    if let Some(pool) = &redis {
        let host = config.redis_host.as_deref().unwrap_or_default();
        wait_for_redis(pool, config.redis_wait, host).await;
    }
    let App {
        router,
        drain,
        recorder,
        admin: handles,
    } = app(&config, redis.as_ref())
        .map_err(|error| format!("cannot build the application: {error}"))?;
    let admin = match config.admin.clone() {
        Some(listener) => Some(admin::spawn(listener, handles, recorder.viewer()).await?.1),
        None => None,
    };
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        %addr,
        env = config.env.as_str(),
        redis = redis.is_some(),
        "listening"
    );
    serve::serve(
        listener,
        router,
        &config.serve,
        shutdown_signal(drain, config.drain_for),
    )
    .await;
    if let Some(admin) = admin {
        admin.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits at most `wait` for every connection of `pool`, so the first
/// requests are counted in Redis rather than in this instance's memory.
/// Gives up with a warning (naming the host, never the password) and lets the
/// server start degraded: every Redis-backed layer has its outage policy.
async fn wait_for_redis(pool: &Pool, wait: Duration, host: &str) {
    if wait.is_zero() {
        return;
    }
    if strata::core::redis::wait_connected(pool, wait).await {
        tracing::info!(redis_host = host, "connected to Redis");
    } else {
        tracing::warn!(
            redis_host = host,
            waited_seconds = wait.as_secs_f64(),
            "Redis is not reachable yet: starting degraded (shared limits, cache \
             and sessions fall back to their outage policy until it connects)"
        );
    }
}

fn main() -> ExitCode {
    ExitCode::from(serve_until_stopped())
}

/// Runs the server; the process exit status: 0 after a clean shutdown, 1 when
/// it could not start (the reason printed as one line).
fn serve_until_stopped() -> u8 {
    // Error tracking starts before the runtime, so every thread reports.
    let result = Config::from_env()
        .map_err(|error| error.to_string())
        .and_then(|config| Ok((sentry::init(&config)?, config)))
        .and_then(|(guard, config)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the runtime: {error}"))?;
            let result = runtime.block_on(run(config));
            // Flushes queued events before the process exits.
            drop(guard);
            result
        });
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("server: {error}");
            1
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_admin;
#[cfg(test)]
mod tests_cache;
#[cfg(test)]
mod tests_cli;
#[cfg(test)]
mod tests_connections;
#[cfg(test)]
mod tests_data_cache;
#[cfg(test)]
mod tests_logs;
#[cfg(test)]
mod tests_process;
#[cfg(test)]
mod tests_recorder;
#[cfg(test)]
mod tests_rejections;
#[cfg(test)]
mod tests_sentry;
#[cfg(test)]
mod tests_sessions;
