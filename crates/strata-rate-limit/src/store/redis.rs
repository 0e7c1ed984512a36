//! The Redis backend: one Lua script (`redis.lua`), run with `EVALSHA` by
//! the batch senders.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use smallvec::SmallVec;
use strata_core::ConfigError;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::ClientLike;
use strata_core::redis::fred::types::Key as RedisKey;
use strata_core::redis::fred::util::redis_keyslot;
use tokio::sync::oneshot;

use super::batch::{Batcher, Pending, Sender};
use super::deny_cache::DenyCache;
use super::link::{Link, Route};
use super::{MemoryStore, Store, StoreError};
use crate::decision::{Counts, Evaluation, Gcra, Outcome};
use crate::{Decision, Key, Policy};

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
/// ([`StoreError::Disconnected`]), so a known outage costs no timeout; the
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

    fn keys(&self, key: &Key, policies: &[Policy]) -> Vec<RedisKey> {
        policies
            .iter()
            .map(|policy| RedisKey::from(self.redis_key(key, policy.name())))
            .collect()
    }

    /// The decision under the outage policy and deny cache (the layer's path).
    pub(crate) async fn decide(&self, key: &Key, policies: &[Policy], cost: u32) -> Outcome {
        let keys = self.keys(key, policies);
        let cache_key = (cost > 0).then(|| {
            let mut cache_key = format!("{cost}");
            for k in &keys {
                cache_key.push(' ');
                cache_key.push_str(&String::from_utf8_lossy(k.as_bytes()));
            }
            cache_key
        });
        if let Some(decision) = cache_key.as_deref().and_then(|k| self.deny_cache.get(k)) {
            return Outcome::Decided(decision);
        }
        match self.run(keys, policies, cost).await {
            Ok(decision) => {
                if let (false, Some(cache_key)) = (decision.allowed, cache_key) {
                    self.deny_cache.insert(cache_key, &decision);
                }
                Outcome::Decided(decision)
            }
            Err(_) => match self.on_error {
                OnStoreError::Fallback => {
                    Outcome::Fallback(self.fallback.decide(key, policies, cost))
                }
                OnStoreError::FailOpen => Outcome::FailOpen,
                OnStoreError::FailClosed => Outcome::FailClosed,
            },
        }
    }

    /// [`call`](Self::call), keeping track of the connection (see
    /// [`Link`]): once Redis is known to be down, while the pool has no
    /// connection up, Redis is not tried (the pool reconnects on its own;
    /// the first decision after that tries again). Logs the failure that
    /// marks Redis down and the recovery.
    async fn run(
        &self,
        keys: Vec<RedisKey>,
        policies: &[Policy],
        cost: u32,
    ) -> Result<Evaluation, StoreError> {
        let link = &self.shared.link;
        let result = match link.route(&self.pool) {
            // Known to be down: answer now rather than queue a command
            // that can only time out.
            Route::Skip => Err(StoreError::Disconnected),
            Route::Send => self.call(keys, policies, cost).await,
        };
        match &result {
            Ok(_) => {
                if link.succeeded() {
                    tracing::info!("rate-limit store reachable again");
                }
            }
            Err(error) => {
                if link.failed() {
                    tracing::warn!(%error, policy = ?self.on_error, "rate-limit store failed");
                } else {
                    tracing::debug!(%error, "rate-limit store failed");
                }
            }
        }
        result
    }

    /// One decision through the batch queue and the script.
    async fn call(
        &self,
        keys: Vec<RedisKey>,
        policies: &[Policy],
        cost: u32,
    ) -> Result<Evaluation, StoreError> {
        let mut rule = SmallVec::with_capacity(2 * policies.len());
        for policy in policies {
            let quota = policy.quota();
            rule.push(i64::try_from(quota.emission_micros()).unwrap_or(i64::MAX));
            rule.push(i64::from(quota.burst_size()));
        }
        let slot = match keys.first() {
            Some(key) if self.shared.clustered => Some(redis_keyslot(key.as_bytes())),
            _ => None,
        };
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            keys,
            rule,
            cost: i64::from(cost),
            slot,
            deadline: tokio::time::Instant::now() + self.timeout,
            timeout: self.timeout,
            reply,
        };
        self.sender().submit(pending).await;
        // No timer here: the sender answers by the deadline (a timeout when
        // Redis is late), or drops the reply if its runtime goes away.
        let reply = match answer.await {
            Ok(reply) => reply?,
            Err(_) => {
                return Err(StoreError::Reply(
                    "the decision was dropped before Redis answered".into(),
                ));
            }
        };
        parse(&reply, policies, cost)
    }

    fn sender(&self) -> Sender {
        Sender {
            pool: self.pool.clone(),
            batcher: Arc::clone(&self.shared.batcher),
            sha: Arc::clone(&self.shared.sha),
            timeout: self.timeout,
        }
    }
}

/// Reads the script's reply for one decision (`allowed`, then per policy
/// `max(tat, now) − now` in microseconds) into its numbers, with the same
/// integer GCRA as the memory store.
fn parse(reply: &[i64], policies: &[Policy], cost: u32) -> Result<Evaluation, StoreError> {
    let bad = || StoreError::Reply(format!("{reply:?}"));
    if reply.len() != 1 + policies.len() {
        return Err(bad());
    }
    let allowed = reply[0] == 1;
    let micros = Duration::from_micros;
    let mut states: SmallVec<[Counts; 2]> = SmallVec::new();
    for (policy, &since) in policies.iter().zip(&reply[1..]) {
        let tat = u64::try_from(since).map_err(|_| bad())?;
        let gcra = Gcra {
            t: policy.quota().emission_micros(),
            burst: u64::from(policy.quota().burst_size()),
        };
        // Times relative to the server's `now`, taken as 0.
        let mut eval = gcra.eval(Some(tat), 0, u64::from(cost));
        if !allowed && eval.allowed {
            // This policy had room, another refused: nothing was consumed.
            eval = gcra.eval(Some(tat), 0, 0);
        }
        states.push(Counts {
            limited: !eval.allowed,
            remaining: eval.remaining,
            reset: micros(eval.reset),
            retry_after: micros(eval.retry),
        });
    }
    if allowed != states.iter().all(|state| !state.limited) {
        return Err(bad());
    }
    Ok(Evaluation { allowed, states })
}

impl Store for RedisStore {
    /// The script's decision; errors and timeouts are returned, not handled
    /// by the outage policy, and the deny cache is not used.
    fn check(
        &self,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> impl Future<Output = Result<Decision, StoreError>> + Send {
        let keys = self.keys(key, policies);
        async move {
            if policies.len() > crate::rule::MAX_POLICIES {
                return Err(StoreError::TooManyPolicies);
            }
            Ok(self
                .run(keys, policies, cost)
                .await?
                .into_decision(policies))
        }
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
