//! A caching reverse proxy: every request goes to one upstream through the
//! strata response cache, in memory or shared through Redis.
//!
//! ```text
//! UPSTREAM=http://127.0.0.1:3000 cargo run --release --example cache-proxy
//! ```
//!
//! Settings come from the environment: `UPSTREAM` (required, `http://host:port`),
//! `BIND` / `PORT` (`127.0.0.1` / `8080`), `REDIS_URL`, `REDIS_CONNECT_WAIT`,
//! `UPSTREAM_CONNECT_TIMEOUT`, `UPSTREAM_TIMEOUT`, `RUST_LOG` and the
//! connection bounds of the example server; see `docs/cache-proxy.md`. A bad
//! value stops start-up with one line naming the variable.

mod app;
mod config;
#[path = "../shared/env.rs"]
mod env;
mod forward;
mod headers;
#[path = "../server/serve.rs"]
mod serve;
#[path = "../server/serve_config.rs"]
mod serve_config;

use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Resolves on ctrl-c or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => drop(term.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: in-flight requests finish");
}

/// Connects to Redis (when configured), binds and serves until stopped.
async fn run(config: Config) -> Result<(), String> {
    let redis = match &config.redis {
        Some(builder) => Some(env::connect_redis(builder.clone(), config.redis_wait).await?),
        None => None,
    };
    let shared = redis.is_some();
    let router =
        app::app(&config, redis).map_err(|error| format!("cannot build the cache: {error}"))?;
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, upstream = %config.upstream, redis = shared, "listening");
    serve::serve(listener, router, &config.serve, stop_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

fn start() -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|error| format!("invalid RUST_LOG: {error}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init()
        .map_err(|error| format!("cannot install the logger: {error}"))?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?
        .block_on(run(config))
}

/// Exit status 0 after a clean shutdown, 1 when the proxy could not start
/// (the reason printed as one line).
fn main() -> ExitCode {
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cache-proxy: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_shared;
