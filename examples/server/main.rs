//! The strata demo server: every layer composed in the recommended order.
//!
//! ```text
//! cargo run --release --example server
//! ```
//!
//! Settings come from the environment (`BIND`, `PORT`, `REDIS_URL`, `APP_ENV`,
//! `TRUSTED_PROXIES`, `RUST_LOG`); see `docs/example-server.md`. A bad value
//! stops start-up with one line naming the variable.

mod config;
mod items;
mod security;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use strata::core::{ClientIp, ClientIpLayer, ClientIpResolver, Problem};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

use crate::config::{AppEnv, Config};
use crate::items::Catalogue;

/// What the handlers share.
#[derive(Debug, Clone)]
struct AppState {
    catalogue: Catalogue,
}

impl axum::extract::FromRef<AppState> for Catalogue {
    fn from_ref(state: &AppState) -> Self {
        state.catalogue.clone()
    }
}

/// Any start-up error, shown as one line.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Largest request body the application reads.
const MAX_BODY: usize = 64 * 1024;

/// The whole application, built from its settings.
///
/// Layers, outermost first: client address → request log → security headers
/// → body limit → routes (CORS on `/api`).
fn app(config: &Config) -> Result<Router, BoxError> {
    let state = AppState {
        catalogue: Catalogue::sample(),
    };
    let resolver = ClientIpResolver::new().trusted_proxies(config.trusted_proxies.clone());
    let api = Router::new()
        .route("/items", get(items::list))
        .route("/items/{id}", get(items::get).put(items::put))
        .layer(security::cors(config));
    let router = Router::new()
        .route("/", get(security::index))
        .nest("/api", api)
        .route_service(security::REPORT_PATH, security::collector())
        .fallback(not_found)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(ClientIpLayer::new(resolver))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(security::headers(config)?)
                .layer(RequestBodyLimitLayer::new(MAX_BODY)),
        );
    Ok(router)
}

/// One span per request, with the client address resolved by `ClientIpLayer`.
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

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown_signal() {
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
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    init_tracing(&config)?;
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        %addr,
        env = config.env.as_str(),
        redis = config.redis.is_some(),
        "listening"
    );
    let app = app(&config).map_err(|error| format!("cannot build the application: {error}"))?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|error| format!("server error: {error}"))?;
    tracing::info!("stopped");
    // Give the log writer a moment to flush its last lines.
    tokio::time::sleep(Duration::from_millis(10)).await;
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
