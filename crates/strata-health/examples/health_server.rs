//! The health endpoints in an axum server, with Redis as a non-critical check
//! when `REDIS_URL` is set, and readiness drained on SIGTERM/ctrl-c before
//! requests in flight finish.
//!
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p strata-health --example health_server --features redis`

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use strata_core::redis::RedisPoolBuilder;
use strata_health::checks::RedisCheck;
use strata_health::{Drain, HealthLayer, Registration};

/// How long readiness fails before the server stops accepting connections,
/// so load balancers see the failure first.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut health = HealthLayer::builder()
        .release_id(env!("CARGO_PKG_VERSION"))
        .service_id("strata-example")
        .environment(std::env::var("APP_ENV").unwrap_or_else(|_| "development".into()));
    if let Some(url) = std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let pool = RedisPoolBuilder::from_url(&url)?.connect().await?;
        // Non-critical: every Redis-backed layer degrades on an outage, and a
        // shared dependency failing readiness would empty the load balancer.
        health = health.register(Registration::new("redis", RedisCheck::new(pool)).critical(false));
    }
    let (health, drain) = health.pair()?;

    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        // Outside rate limiting, so probes are never rejected.
        .layer(health);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(drain_on_signal(drain, DRAIN_GRACE))
        .await?;
    Ok(())
}

/// Resolves (so the server stops accepting and finishes requests in flight)
/// `grace` after SIGTERM or ctrl-c, readiness failing in between.
async fn drain_on_signal(drain: Drain, grace: Duration) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    drain.drain();
    tokio::time::sleep(grace).await;
}
