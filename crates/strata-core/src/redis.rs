//! One documented way to build the `fred` pool every Redis-backed layer uses.
//!
//! `fred`'s own defaults suit a batch job, not a request path: no command
//! timeout (a request waits as long as Redis is away), an unbounded command
//! queue, and a failed first connection is fatal. [`RedisPoolBuilder`] starts
//! from defaults that keep a service answering while Redis is down:
//!
//! | setting | default | why |
//! |---|---|---|
//! | [`command_timeout`](RedisPoolBuilder::command_timeout) | 50 ms | a command never holds a request longer; layers then apply their outage policy |
//! | [`reconnect_backoff`](RedisPoolBuilder::reconnect_backoff) | first attempt at once, then 100 ms doubling to 5 s, forever, with jitter | recovery is automatic and a flapping server is not hammered |
//! | [`fail_fast`](RedisPoolBuilder::fail_fast) | `false` | the service starts while Redis is down and connects when it comes back |
//! | [`max_command_buffer`](RedisPoolBuilder::max_command_buffer) | 4096 per connection | queued commands are bounded; beyond it commands fail at once |
//! | [`connection_timeout`](RedisPoolBuilder::connection_timeout) | 1 s | a black-holed address is retried instead of waited on |
//! | [`unresponsive_timeout`](RedisPoolBuilder::unresponsive_timeout) | 2 s | a half-open connection (no reply, no reset) is closed and reopened |
//! | [`pool_size`](RedisPoolBuilder::pool_size) | 4 | connections pipeline, so a few serve many requests |
//!
//! Layers take the built [`Pool`]: build one and hand clones to every layer.

use std::time::Duration;

pub use fred;

mod link;
mod wait;

pub use self::link::{Link, Route};
pub use self::wait::wait_connected;
use fred::clients::{Client, Pool};
use fred::interfaces::ClientLike;
use fred::types::Builder;
use fred::types::config::{Config, ReconnectPolicy, UnresponsiveConfig};

use crate::ConfigError;

/// Builds a `fred` [`Pool`] from a URL with production defaults (see the
/// [module docs](self)).
///
/// Accepted URLs: `redis://[[user:]password@]host[:port][/db]`,
/// `rediss://...` (TLS, feature `redis-tls`),
/// `redis-cluster://host:port?node=host2:port2&node=...` (and `rediss-cluster://`),
/// `redis-sentinel://...`.
///
/// ```no_run
/// use std::time::Duration;
/// use strata_core::redis::RedisPoolBuilder;
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?
///     .command_timeout(Duration::from_millis(30))
///     .connect()
///     .await?;
/// # drop(pool);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisPoolBuilder {
    config: Config,
    pool_size: usize,
    command_timeout: Duration,
    connection_timeout: Duration,
    max_command_buffer: usize,
    reconnect_min: Duration,
    reconnect_max: Duration,
    max_command_attempts: u32,
    unresponsive_timeout: Option<Duration>,
}

impl RedisPoolBuilder {
    /// Parses `url`. A `rediss://` URL without the `redis-tls` feature is an
    /// error rather than a silent plaintext connection.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let tls = scheme.to_ascii_lowercase().starts_with("rediss")
            || scheme.to_ascii_lowercase().starts_with("valkeys");
        if tls && !cfg!(feature = "redis-tls") {
            return Err(ConfigError::feature_disabled("from_url", "redis-tls"));
        }
        let mut config =
            Config::from_url(url).map_err(|source| ConfigError::RedisUrl { source })?;
        config.fail_fast = false;
        Ok(Self {
            config,
            pool_size: 4,
            command_timeout: Duration::from_millis(50),
            connection_timeout: Duration::from_secs(1),
            max_command_buffer: 4096,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            max_command_attempts: 3,
            unresponsive_timeout: Some(Duration::from_secs(2)),
        })
    }

    /// Number of connections (each pipelines many commands). Default 4; 1 to 256.
    #[must_use]
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// How long a command may take, queueing while disconnected included,
    /// before it fails with a timeout. Default 50 ms; must be non-zero (zero
    /// would mean "wait forever").
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Timeout of one TCP (and TLS) connection attempt. Default 1 s; non-zero.
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Commands that may queue per connection; beyond it a command fails at
    /// once with a backpressure error. Default 4096; non-zero.
    #[must_use]
    pub fn max_command_buffer(mut self, commands: usize) -> Self {
        self.max_command_buffer = commands;
        self
    }

    /// Reconnect delay: starts at `min`, doubles per failed attempt up to
    /// `max`, plus up to 50 ms of jitter; attempts never stop. Default
    /// 100 ms to 5 s; `min` non-zero and at most `max`.
    #[must_use]
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self
    }

    /// How often a command is sent again when its connection drops while it
    /// is in flight (within the command timeout). Default 3; at least 1.
    #[must_use]
    pub fn max_command_attempts(mut self, attempts: u32) -> Self {
        self.max_command_attempts = attempts;
        self
    }

    /// Close a connection on which a reply has been awaited this long, and
    /// reconnect. Default 2 s; `None` disables the check (needed only for
    /// blocking commands, which no strata layer sends).
    #[must_use]
    pub fn unresponsive_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.unresponsive_timeout = timeout;
        self
    }

    /// Whether a failed first connection is an error of
    /// [`connect`](Self::connect) instead of being retried. Default `false`,
    /// so the service starts while Redis is down.
    #[must_use]
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.config.fail_fast = fail_fast;
        self
    }

    /// Builds the pool without connecting it.
    ///
    /// Prefer [`connect`](Self::connect): a pool connected through `fred`'s
    /// own `connect_pool()` makes its first attempt only after the reconnect
    /// backoff's minimum delay (and its jitter), so commands sent in the
    /// first moments time out even with Redis up.
    pub fn build(self) -> Result<Pool, ConfigError> {
        self.build_with(self.config.fail_fast)
    }

    fn build_with(&self, fail_fast: bool) -> Result<Pool, ConfigError> {
        self.validate()?;
        let policy = ReconnectPolicy::new_exponential(
            0,
            millis(self.reconnect_min),
            millis(self.reconnect_max),
            2,
        );
        let mut config = self.config.clone();
        config.fail_fast = fail_fast;
        let mut builder = Builder::from_config(config);
        builder
            .set_policy(policy)
            .with_performance_config(|perf| {
                perf.default_command_timeout = self.command_timeout;
            })
            .with_connection_config(|conn| {
                conn.connection_timeout = self.connection_timeout;
                conn.internal_command_timeout = self.connection_timeout;
                conn.max_command_buffer_len = self.max_command_buffer;
                conn.max_command_attempts = self.max_command_attempts;
                conn.tcp.nodelay = Some(true);
                conn.unresponsive = UnresponsiveConfig {
                    max_timeout: self.unresponsive_timeout,
                    interval: self
                        .unresponsive_timeout
                        .map_or(Duration::from_secs(2), |t| {
                            (t / 4).max(Duration::from_millis(10))
                        }),
                };
            });
        builder
            .build_pool(self.pool_size)
            .map_err(|source| ConfigError::Redis { source })
    }

    /// Builds the pool and starts connecting it. Each connection's first
    /// attempt starts at once; `connect` returns without waiting for it,
    /// whether or not Redis is reachable. Commands sent before the first
    /// connection is up wait in the buffer until the command timeout; wait
    /// for it with [`wait_connected`] where a service should not start
    /// before Redis is there.
    ///
    /// A failed first attempt is retried in the background, after the
    /// [reconnect backoff](Self::reconnect_backoff)'s minimum, doubling to
    /// its maximum, until one succeeds; after that, a lost connection is
    /// reconnected by `fred` under the same backoff. This spawns one small
    /// task per pooled connection on the current tokio runtime.
    ///
    /// With [`fail_fast(true)`](Self::fail_fast) it instead waits for the
    /// first connection and returns its error.
    pub async fn connect(self) -> Result<Pool, ConfigError> {
        // fred's own first attempt (without fail_fast) sleeps the reconnect
        // delay first; with fail_fast it connects at once and ends its task
        // on failure, so the retries of a failed first attempt are ours.
        let pool = self.build_with(true)?;
        if self.config.fail_fast {
            pool.init()
                .await
                .map_err(|source| ConfigError::Redis { source })?;
        } else {
            for client in pool.clients() {
                tokio::spawn(keep_connecting(
                    client.clone(),
                    self.reconnect_min,
                    self.reconnect_max,
                ));
            }
        }
        Ok(pool)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let checks = [
            (
                "pool_size",
                (1..=256).contains(&self.pool_size),
                "must be between 1 and 256",
            ),
            (
                "command_timeout",
                !self.command_timeout.is_zero(),
                "must be non-zero: zero means no timeout",
            ),
            (
                "connection_timeout",
                !self.connection_timeout.is_zero(),
                "must be non-zero",
            ),
            (
                "max_command_buffer",
                self.max_command_buffer > 0,
                "must be non-zero: zero means unbounded",
            ),
            (
                "reconnect_backoff",
                !self.reconnect_min.is_zero() && self.reconnect_min <= self.reconnect_max,
                "min must be non-zero and at most max",
            ),
            (
                "max_command_attempts",
                self.max_command_attempts > 0,
                "must be at least 1",
            ),
            (
                "unresponsive_timeout",
                self.unresponsive_timeout.is_none_or(|t| !t.is_zero()),
                "must be non-zero or None",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((setting, _, reason)) => Err(ConfigError::invalid(setting, reason)),
            None => Ok(()),
        }
    }
}

/// Runs `client`'s connection task, starting it again after a failed first
/// attempt (backoff from `min` doubling to `max`). Returns when the client
/// quits.
async fn keep_connecting(client: Client, min: Duration, max: Duration) {
    let mut delay = min;
    loop {
        match client.connect().await {
            // The client quit, or its task is gone with the runtime.
            Ok(Ok(())) | Err(_) => return,
            Ok(Err(error)) => {
                tracing::debug!(%error, retry_in = ?delay, "Redis connection attempt failed");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2).min(max);
            }
        }
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
