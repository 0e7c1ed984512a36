//! The strata demo server: every layer composed in the recommended order.
//!
//! ```text
//! cargo run --release --example server
//! ```
//!
//! Settings come from the environment (`BIND`, `PORT`, `REDIS_URL`, `APP_ENV`,
//! `TRUSTED_PROXIES`, `RUST_LOG`); see `docs/example-server.md`. A bad value
//! stops start-up with one line naming the variable.

mod app;
mod config;
mod items;
mod limits;
mod login;
mod security;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use strata::health::Drain;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::app::{App, app};
use crate::config::{AppEnv, Config};

fn init_tracing(config: &Config) -> Result<(), String> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|error| format!("invalid RUST_LOG: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let result = match config.env {
        AppEnv::Production => builder.json().flatten_event(true).try_init(),
        AppEnv::Development => builder.try_init(),
    };
    result.map_err(|error| format!("cannot install the logger: {error}"))
}

/// Resolves on ctrl-c or SIGTERM, after failing readiness and waiting
/// `drain_for`, so load balancers stop sending new requests before the
/// listener closes; in-flight requests then finish.
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

async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    init_tracing(&config)?;
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
    let App { router, drain } = app(&config, redis.as_ref())
        .map_err(|error| format!("cannot build the application: {error}"))?;
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
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(drain, config.drain_for))
    .await
    .map_err(|error| format!("server error: {error}"))?;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    ExitCode::from(serve_until_stopped())
}

/// Runs the server; the process exit status: 0 after a clean shutdown, 1 when
/// it could not start (the reason printed as one line).
fn serve_until_stopped() -> u8 {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))
        .and_then(|runtime| runtime.block_on(run()));
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
mod tests_process;
