//! The Redis backend: one Lua script (`redis.lua`), run with `EVALSHA` by
//! the batch senders.

mod decide;
mod reset;

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use strata_core::ConfigError;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::ClientLike;

use super::MemoryStore;
use super::batch::Batcher;
use super::deny_cache::DenyCache;
use crate::Key;
use strata_core::redis::Link;

/// What a [`RedisStore`] does when Redis fails or does not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnStoreError {
    /// Decide with the store's in-memory fallback (per-instance counts
    /// until Redis answers again).
    #[default]
    Fallback,
    /// Let every request through, without rate-limit headers.
    FailOpen,
    /// Refuse with `503 Service Unavailable` problem+json (a layer in
    /// [`dry_run`](crate::RateLimitBuilder::dry_run) lets the request through).
    FailClosed,
}

/// Default for [`RedisStore::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);
/// Default for [`RedisStore::deny_cache`].
pub const DEFAULT_DENY_CACHE: usize = 10_000;

/// Rate-limit state in Redis, shared by every instance with the same key
/// prefix.
///
/// One Lua script checks and updates all policies of a request atomically
/// on the server's clock (`TIME`), so instance clocks do not matter. Keys
/// are `<prefix>{<key>}:<policy>` ([`redis_key`](Self::redis_key) renders
/// one): the hash tag puts a client's policies on one cluster slot. Inside
/// it, each kind of [`Key`] has its own form, so kinds never share a
/// counter:
///
/// | key | in the hash tag |
/// |---|---|
/// | [`Key::ip`] | `ip:<address>` (`ip:192.0.2.1`, `ip:2001:db8::`) |
/// | [`Key::global`] | `global` |
/// | [`Key::new`] | `t:<text>`, with `%`, `{`, `}` written `%25`, `%7B`, `%7D` |
///
/// so `Key::new("global")` is `strata:rl:{t:global}:<policy>` and
/// `Key::new("ip:192.0.2.1")` is `strata:rl:{t:ip:192.0.2.1}:<policy>`.
/// Keys expire when their quota has fully replenished, and nothing is
/// written for a refused request.
///
/// Decisions pending at the same moment share one script call (up to 64
/// per call, at most 8 calls in flight per store), each run exactly as it
/// would run alone; under light load a call carries one decision.
///
/// A Redis call is bounded by [`timeout`](Self::timeout); a failure or
/// timeout applies [`on_error`](Self::on_error). After a failure, while the
/// pool has no connection up, Redis is not tried
/// ([`StoreError::Disconnected`](crate::StoreError::Disconnected)), so a known outage costs no timeout; the
/// pool reconnects on its own. Clients known to be refused
/// are answered from a local cache until their retry time, without a round
/// trip.
///
/// ```no_run
/// use strata_core::redis::RedisPoolBuilder;
/// use strata_rate_limit::{KeyBy, OnStoreError, Policy, Quota, RateLimitLayer, RedisStore, Rule};
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let layer = RateLimitLayer::builder(Rule::new(
///     KeyBy::client_ip(),
///     Policy::new("per-ip", Quota::per_minute(60)),
/// ))
/// .redis(RedisStore::new(pool).prefix("myapp:rl:").on_error(OnStoreError::Fallback))
/// .build()?;
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: Arc<str>,
    timeout: Duration,
    on_error: OnStoreError,
    fallback: MemoryStore,
    deny_cache: Arc<DenyCache>,
    shared: Arc<SharedState>,
}

struct SharedState {
    sha: Arc<RwLock<Option<String>>>,
    link: Link,
    batcher: Arc<Batcher>,
    /// The pool talks to a Redis Cluster: a batch holds one slot's keys.
    clustered: bool,
}

impl RedisStore {
    /// A store on `pool` (build it with
    /// [`RedisPoolBuilder`](strata_core::redis::RedisPoolBuilder)), key
    /// prefix `strata:rl:`, 50 ms timeout, memory fallback, a deny cache of
    /// 10,000 keys.
    pub fn new(pool: Pool) -> Self {
        let clustered = pool.next().is_clustered();
        let link = Link::new(&pool);
        Self {
            pool,
            prefix: Arc::from("strata:rl:"),
            timeout: DEFAULT_TIMEOUT,
            on_error: OnStoreError::default(),
            fallback: MemoryStore::new(),
            deny_cache: Arc::new(DenyCache::new(DEFAULT_DENY_CACHE)),
            shared: Arc::new(SharedState {
                sha: Arc::default(),
                link,
                batcher: Arc::default(),
                clustered,
            }),
        }
    }

    /// Prefix of every key. Default `strata:rl:`; no `{` or `}`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<Arc<str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Longest wait for Redis per request, on top of the pool's own command
    /// timeout. Default 50 ms; between 1 ms and 10 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What happens when Redis fails. Default [`OnStoreError::Fallback`].
    #[must_use]
    pub fn on_error(mut self, on_error: OnStoreError) -> Self {
        self.on_error = on_error;
        self
    }

    /// The in-memory store used while Redis is unreachable (with
    /// [`OnStoreError::Fallback`]). Default: a new [`MemoryStore`].
    #[must_use]
    pub fn fallback(mut self, fallback: MemoryStore) -> Self {
        self.fallback = fallback;
        self
    }

    /// How many refused keys are remembered locally until their retry time
    /// (0 disables the cache). Default 10,000.
    #[must_use]
    pub fn deny_cache(mut self, entries: usize) -> Self {
        self.deny_cache = Arc::new(DenyCache::new(entries));
        self
    }

    /// The first invalid setting, named `RedisStore::<method>` (then the
    /// fallback's, `MemoryStore::<method>`).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.prefix.contains(['{', '}']) {
            return Err(ConfigError::invalid(
                "RedisStore::prefix",
                "must not contain `{` or `}` (they delimit the cluster hash tag)",
            ));
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > Duration::from_secs(10) {
            return Err(ConfigError::invalid(
                "RedisStore::timeout",
                "must be between 1 ms and 10 s",
            ));
        }
        self.fallback.validate()
    }

    /// The Redis key holding `key`'s state under the policy named `policy`:
    /// `<prefix>{<key's form>}:<policy>` (see the [type docs](Self) for each
    /// kind's form). For inspecting or clearing a client's counters.
    ///
    /// ```no_run
    /// # async fn run(store: strata_rate_limit::RedisStore) {
    /// use strata_rate_limit::Key;
    ///
    /// let ip = Key::ip("192.0.2.1".parse().expect("address"));
    /// assert_eq!(store.redis_key(&ip, "per-ip"), "strata:rl:{ip:192.0.2.1}:per-ip");
    /// assert_eq!(store.redis_key(&Key::new("a{b}"), "p"), "strata:rl:{t:a%7Bb%7D}:p");
    /// # }
    /// ```
    pub fn redis_key(&self, key: &Key, policy: &str) -> String {
        let mut out = String::with_capacity(self.prefix.len() + policy.len() + 48);
        out.push_str(&self.prefix);
        out.push('{');
        key.write_redis(&mut out);
        out.push_str("}:");
        out.push_str(policy);
        out
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("on_error", &self.on_error)
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}
