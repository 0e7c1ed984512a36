//! The Redis backend: one Lua script, run with `EVALSHA`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::LuaInterface;
use fred::types::Key as RedisKey;
use strata_core::ConfigError;

use super::deny_cache::DenyCache;
use super::{MemoryStore, Store, StoreError};
use crate::decision::{Counts, Evaluation};
use crate::service::Outcome;
use crate::{Decision, Key, Policy};

/// GCRA over every policy of a rule, atomically, on the server's clock.
///
/// `KEYS[i]`: the state of policy `i` (its theoretical arrival time, in
/// microseconds). `ARGV[1]`: the cost; `ARGV[2i]`, `ARGV[2i+1]`: policy
/// `i`'s emission interval (microseconds) and burst. Returns integers only:
/// `allowed`, then per policy `limited, remaining, reset_us, retry_us`.
/// Nothing is written unless every policy allows; what is written expires
/// when the quota has fully replenished.
const SCRIPT: &str = r"
local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local cost = tonumber(ARGV[1])
local n = #KEYS
if n == 1 then
  local t = tonumber(ARGV[2])
  local tau = t * tonumber(ARGV[3])
  local tat = tonumber(redis.call('GET', KEYS[1])) or now
  if tat < now then tat = now end
  local new = tat + cost * t
  if new - now > tau then
    return {0, 1, math.floor((tau - (tat - now)) / t), tat - now, new - now - tau}
  end
  if cost > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.max(1, math.ceil((new - now) / 1000)))
  end
  return {1, 0, math.floor((tau - (new - now)) / t), new - now, 0}
end
local tats, news = {}, {}
local allowed = 1
for i = 1, n do
  local t = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local new = tat + cost * t
  if new - now > t * tonumber(ARGV[2 * i + 1]) then allowed = 0 end
  tats[i], news[i] = tat, new
end
local reply = {allowed}
for i = 1, n do
  local t = tonumber(ARGV[2 * i])
  local tau = t * tonumber(ARGV[2 * i + 1])
  local tat, new = tats[i], news[i]
  local j = 4 * i - 2
  if allowed == 1 then
    if cost > 0 then
      redis.call('SET', KEYS[i], string.format('%.0f', new), 'PX', math.max(1, math.ceil((new - now) / 1000)))
    end
    reply[j], reply[j + 1], reply[j + 2], reply[j + 3] = 0, math.floor((tau - (new - now)) / t), new - now, 0
  elseif new - now > tau then
    reply[j], reply[j + 1], reply[j + 2], reply[j + 3] = 1, math.floor((tau - (tat - now)) / t), tat - now, new - now - tau
  else
    reply[j], reply[j + 1], reply[j + 2], reply[j + 3] = 0, math.floor((tau - (tat - now)) / t), tat - now, 0
  end
end
return reply
";

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
    /// Refuse with `503 Service Unavailable` problem+json.
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
/// are `<prefix>{<key>}:<policy>`: the hash tag puts a client's policies on
/// one cluster slot. They expire when their quota has fully replenished, and
/// nothing is written for a refused request.
///
/// A Redis call is bounded by [`timeout`](Self::timeout); a failure or
/// timeout applies [`on_error`](Self::on_error). Clients known to be refused
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

#[derive(Default)]
struct SharedState {
    sha: RwLock<Option<String>>,
    healthy: AtomicBool,
}

impl RedisStore {
    /// A store on `pool` (build it with
    /// [`RedisPoolBuilder`](strata_core::redis::RedisPoolBuilder)), key
    /// prefix `strata:rl:`, 50 ms timeout, memory fallback, a deny cache of
    /// 10,000 keys.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            prefix: Arc::from("strata:rl:"),
            timeout: DEFAULT_TIMEOUT,
            on_error: OnStoreError::default(),
            fallback: MemoryStore::new(),
            deny_cache: Arc::new(DenyCache::new(DEFAULT_DENY_CACHE)),
            shared: Arc::new(SharedState {
                sha: RwLock::default(),
                healthy: AtomicBool::new(true),
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

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.prefix.contains(['{', '}']) {
            return Err(ConfigError::OutOfRange {
                name: "prefix",
                reason: "must not contain `{` or `}` (they delimit the cluster hash tag)",
            });
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > Duration::from_secs(10) {
            return Err(ConfigError::OutOfRange {
                name: "timeout",
                reason: "must be between 1 ms and 10 s",
            });
        }
        self.fallback.validate()
    }

    fn keys(&self, key: &Key, policies: &[Policy]) -> Vec<RedisKey> {
        policies
            .iter()
            .map(|policy| RedisKey::from(format!("{}{{{key}}}:{}", self.prefix, policy.name())))
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
                if !self.shared.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!("rate-limit store reachable again");
                }
                if let (false, Some(cache_key)) = (decision.allowed, cache_key) {
                    self.deny_cache.insert(cache_key, &decision);
                }
                Outcome::Decided(decision)
            }
            Err(error) => {
                if self.shared.healthy.swap(false, Ordering::Relaxed) {
                    tracing::warn!(%error, policy = ?self.on_error, "rate-limit store failed");
                } else {
                    tracing::debug!(%error, "rate-limit store failed");
                }
                match self.on_error {
                    OnStoreError::Fallback => {
                        Outcome::Fallback(self.fallback.decide(key, policies, cost))
                    }
                    OnStoreError::FailOpen => Outcome::FailOpen,
                    OnStoreError::FailClosed => Outcome::FailClosed,
                }
            }
        }
    }

    async fn run(
        &self,
        keys: Vec<RedisKey>,
        policies: &[Policy],
        cost: u32,
    ) -> Result<Evaluation, StoreError> {
        let mut args: Vec<i64> = Vec::with_capacity(1 + 2 * policies.len());
        args.push(i64::from(cost));
        for policy in policies {
            let quota = policy.quota();
            args.push(i64::try_from(quota.emission_micros()).unwrap_or(i64::MAX));
            args.push(i64::from(quota.burst_size()));
        }
        let call = self.eval(keys, args);
        let reply = match tokio::time::timeout(self.timeout, call).await {
            Ok(reply) => reply?,
            Err(_) => return Err(StoreError::Timeout(self.timeout)),
        };
        parse(&reply, policies)
    }

    /// `EVALSHA`, loading the script first when its hash is unknown, and
    /// falling back to `EVAL` (which caches it) on `NOSCRIPT`: a failover or
    /// restart empties the script cache and `SCRIPT LOAD` is not replicated.
    async fn eval(&self, keys: Vec<RedisKey>, args: Vec<i64>) -> Result<Vec<i64>, StoreError> {
        let client = self.pool.next();
        let sha = self
            .shared
            .sha
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sha = match sha {
            Some(sha) => sha,
            None => {
                let sha: String = client.script_load(SCRIPT).await.map_err(redis)?;
                *self
                    .shared
                    .sha
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(sha.clone());
                sha
            }
        };
        // fred takes the arguments by value; keys share their bytes.
        let retry_keys = keys.clone();
        match client.evalsha(sha, keys, args.clone()).await {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                client.eval(SCRIPT, retry_keys, args).await.map_err(redis)
            }
            reply => reply.map_err(redis),
        }
    }
}

fn redis(source: fred::error::Error) -> StoreError {
    StoreError::Redis { source }
}

/// Reads the script's reply (microseconds) into a decision.
fn parse(reply: &[i64], policies: &[Policy]) -> Result<Evaluation, StoreError> {
    let bad = || StoreError::Reply(format!("{reply:?}"));
    if reply.len() != 1 + 4 * policies.len() {
        return Err(bad());
    }
    let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
    let states = reply[1..]
        .chunks_exact(4)
        .map(|values| Counts {
            limited: values[0] == 1,
            remaining: u64::try_from(values[1]).unwrap_or(0),
            reset: micros(values[2]),
            retry_after: micros(values[3]),
        })
        .collect();
    Ok(Evaluation {
        allowed: reply[0] == 1,
        states,
    })
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
