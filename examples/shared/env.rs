//! Start-up pieces the examples share: one-line settings errors, the
//! listen address, the Redis URL, and a bounded wait for Redis.
//!
//! Included with `#[path]`; the including crate names this module `env`.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use strata::core::redis::RedisPoolBuilder;
use strata::core::redis::fred::clients::Pool;
use strata::core::redis::fred::interfaces::ClientLike;

/// A variable with an unusable value: one line, naming the variable.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EnvError {
    pub(crate) var: &'static str,
    pub(crate) reason: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.var, self.reason)
    }
}

impl std::error::Error for EnvError {}

/// `BIND` (default `127.0.0.1`) and `PORT` (default `port`).
pub(crate) fn listen_address(
    var: impl Fn(&str) -> Option<String>,
    port: u16,
) -> Result<(IpAddr, u16), EnvError> {
    let bind = match var("BIND") {
        None => IpAddr::from([127, 0, 0, 1]),
        Some(value) => value.trim().parse().map_err(|_| EnvError {
            var: "BIND",
            reason: format!("{value:?} is not an IP address"),
        })?,
    };
    let port = match var("PORT") {
        None => port,
        Some(value) => value.trim().parse().map_err(|_| EnvError {
            var: "PORT",
            reason: format!("{value:?} is not a port number (0-65535)"),
        })?,
    };
    Ok((bind, port))
}

/// `REDIS_URL`, validated; the error never repeats the URL (it may hold a
/// password).
pub(crate) fn redis_url(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<RedisPoolBuilder>, EnvError> {
    var("REDIS_URL")
        .map(|url| RedisPoolBuilder::from_url(url.trim()))
        .transpose()
        .map_err(|error| EnvError {
            var: "REDIS_URL",
            reason: error.to_string(),
        })
}

/// Connects the pool, then waits at most `wait` until every connection is
/// up, so the first requests use the shared store; gives up with a warning
/// and starts degraded (each Redis-backed layer has its outage policy).
pub(crate) async fn connect_redis(
    builder: RedisPoolBuilder,
    wait: Duration,
) -> Result<Pool, String> {
    let pool = builder
        .connect()
        .await
        .map_err(|error| format!("invalid REDIS_URL: {error}"))?;
    let up = async {
        while !pool.clients().iter().all(ClientLike::is_connected) {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    match tokio::time::timeout(wait, up).await {
        Ok(()) => tracing::info!("connected to Redis"),
        Err(_) => tracing::warn!(
            waited_seconds = wait.as_secs_f64(),
            "Redis is not reachable yet: starting degraded until it connects"
        ),
    }
    Ok(pool)
}
