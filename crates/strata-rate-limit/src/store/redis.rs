//! The Redis backend: one Lua script, run with `EVALSHA`.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::{ClientLike, LuaInterface};
use fred::types::{ClusterHash, CustomCommand, Key as RedisKey, Value};
use smallvec::SmallVec;
use strata_core::ConfigError;
use tokio::sync::oneshot;

use super::batch::{Batcher, Pending, Reply, SenderSlot};
use super::deny_cache::DenyCache;
use super::link::{Link, Route};
use super::{MemoryStore, Store, StoreError};
use crate::decision::{Counts, Evaluation, Gcra};
use crate::service::Outcome;
use crate::{Decision, Key, Policy};

/// GCRA for a batch of decisions, each over every policy of its rule,
/// atomically, on the server's clock.
///
/// `KEYS`: the keys of each decision's policies, decision after decision
/// (the state of a policy: its theoretical arrival time `tat`, in
/// microseconds). `ARGV`: the number of rules, then per rule its number of
/// policies `n` and each policy's emission interval `t` (microseconds) and
/// burst; then per decision the index of its rule and its cost — or, when
/// the batch has one rule of one policy and one cost (the usual case),
/// `u` and that cost, and a loop specialised for it runs instead.
///
/// Decisions run in order, each seeing the ones before it, each exactly as
/// it would run alone: it is allowed when every policy has room
/// (`max(tat, now) − now + cost·t ≤ t·burst`), and then consumes from every
/// policy; a refused decision consumes nothing. Each key written is set
/// once, at the end, with a TTL of the time until its quota is full. Both
/// numbers are formatted as integers in the script (`%d`): a Lua number
/// handed to `redis.call` is formatted with `%.17g`, which costs Redis 7.0
/// a sixth of the whole script.
///
/// Returns integers only, per decision: `allowed`, then per policy
/// `max(tat, now) − now` before the decision. The client derives
/// remaining, reset and retry from those with the same integer GCRA as the
/// memory store ([`Gcra::eval`]).
const SCRIPT: &str = r"
local format = string.format
local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local stored = redis.call('MGET', unpack(KEYS))
if ARGV[5] == 'u' then
  local t, cost = tonumber(ARGV[3]), tonumber(ARGV[6])
  local limit, step = t * tonumber(ARGV[4]), cost * t
  local reply, tats = {}, {}
  for i = 1, #KEYS do
    local key = KEYS[i]
    local tat = tats[key]
    if tat == nil then
      tat = tonumber(stored[i]) or now
      if tat < now then tat = now end
    end
    reply[2 * i] = tat - now
    if tat - now + step > limit then
      reply[2 * i - 1] = 0
    else
      reply[2 * i - 1] = 1
      if cost > 0 then tats[key] = tat + step end
    end
  end
  for key, tat in pairs(tats) do
    local ttl = math.max(1, math.ceil((tat - now) / 1000))
    redis.call('SET', key, format('%d', tat), 'PX', format('%d', ttl))
  end
  return reply
end
local rules, a = {}, 2
for s = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local rule = {}
  for i = 1, 2 * n do rule[i] = tonumber(ARGV[a + i]) end
  rules[s] = rule
  a = a + 1 + 2 * n
end
local tats, written, order = {}, {}, {}
local reply, r, k = {}, 0, 0
local nargs = #ARGV
while a <= nargs do
  local rule, cost = rules[tonumber(ARGV[a])], tonumber(ARGV[a + 1])
  a = a + 2
  local n = #rule / 2
  local allowed = 1
  for i = 1, n do
    local key = KEYS[k + i]
    local tat = tats[key]
    if tat == nil then
      tat = tonumber(stored[k + i]) or now
      if tat < now then tat = now end
      tats[key] = tat
    end
    local t = rule[2 * i - 1]
    reply[r + 1 + i] = tat - now
    if tat - now + cost * t > t * rule[2 * i] then allowed = 0 end
  end
  reply[r + 1] = allowed
  if allowed == 1 and cost > 0 then
    for i = 1, n do
      local key = KEYS[k + i]
      tats[key] = tats[key] + cost * rule[2 * i - 1]
      if not written[key] then
        written[key] = true
        order[#order + 1] = key
      end
    end
  end
  r = r + 1 + n
  k = k + n
end
for _, key in ipairs(order) do
  local tat = tats[key]
  local ttl = math.max(1, math.ceil((tat - now) / 1000))
  redis.call('SET', key, format('%d', tat), 'PX', format('%d', ttl))
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
    sha: RwLock<Option<String>>,
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
                sha: RwLock::default(),
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
            Some(key) if self.shared.clustered => Some(fred::util::redis_keyslot(key.as_bytes())),
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
        if self.shared.batcher.push(pending) {
            let slot = SenderSlot::new(Arc::clone(&self.shared.batcher));
            Lead::new(self.sender(), slot).run().await;
        }
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
            shared: Arc::clone(&self.shared),
            timeout: self.timeout,
        }
    }
}

/// What a sender task needs to run batches.
#[derive(Clone)]
struct Sender {
    pool: Pool,
    shared: Arc<SharedState>,
    timeout: Duration,
}

type BoxFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// The decision whose arrival claimed a sender's place sends the first
/// batch itself, so light load spawns no task and wakes no other thread.
/// It yields once first, so that decisions made at the same moment join
/// its batch. What queues meanwhile is handed to a task; if the decision is
/// dropped while leading (its request cancelled), its call and place move
/// to a task, so no decision is ever left waiting.
struct Lead {
    sender: Sender,
    slot: Option<SenderSlot>,
    call: Option<BoxFuture>,
}

impl Lead {
    fn new(sender: Sender, slot: SenderSlot) -> Self {
        Self {
            sender,
            slot: Some(slot),
            call: None,
        }
    }

    async fn run(mut self) {
        tokio::task::yield_now().await;
        let Some(slot) = self.slot.as_mut() else {
            return;
        };
        let Some((batch, another)) = slot.take() else {
            // Nothing waits (the place was given back by `take`).
            self.slot = None;
            return;
        };
        if another {
            self.sender.spawn_another();
        }
        let call = self.call.insert(self.sender.clone().send_owned(batch));
        call.await;
        self.call = None;
        if let Some(mut slot) = self.slot.take()
            && let Some(next) = slot.take()
        {
            drop(tokio::spawn(self.sender.clone().run(slot, Some(next))));
        }
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let call = self.call.take();
        let sender = self.sender.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            drop(runtime.spawn(async move {
                if let Some(call) = call {
                    call.await;
                }
                sender.run(slot, None).await;
            }));
        }
    }
}

impl Sender {
    /// Sends `first`, then batches until nothing waits.
    fn run(self, mut slot: SenderSlot, first: Option<(Vec<Pending>, bool)>) -> BoxFuture {
        Box::pin(async move {
            let mut next = first.or_else(|| slot.take());
            while let Some((batch, another)) = next {
                if another {
                    self.spawn_another();
                }
                self.send(batch).await;
                next = slot.take();
            }
        })
    }

    /// Starts another sender for the decisions one batch did not take.
    fn spawn_another(&self) {
        let slot = SenderSlot::new(Arc::clone(&self.shared.batcher));
        drop(tokio::spawn(self.clone().run(slot, None)));
    }

    /// [`send`](Self::send) as an owned future, which can move to a task.
    fn send_owned(self, batch: Vec<Pending>) -> BoxFuture {
        Box::pin(async move { self.send(batch).await })
    }

    /// One script call for `batch`, bounded by the store's timeout; every
    /// decision in it gets its integers or the error.
    async fn send(&self, batch: Vec<Pending>) {
        let expected: usize = batch.iter().map(Pending::reply_len).sum();
        // The earliest caller's deadline bounds the call (every decision in
        // the batch gets the same answer).
        let deadline = batch
            .iter()
            .map(|pending| pending.deadline)
            .min()
            .unwrap_or_else(|| tokio::time::Instant::now() + self.timeout);
        let result = match tokio::time::timeout_at(deadline, self.eval(&batch)).await {
            Ok(Ok(reply)) if reply.len() == expected => Ok(reply),
            Ok(Ok(reply)) => Err(StoreError::Reply(format!("{reply:?}"))),
            Ok(Err(error)) => Err(redis(error)),
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        };
        match result {
            Ok(reply) => {
                let mut rest = &reply[..];
                for pending in batch {
                    let (mine, after) = rest.split_at(pending.reply_len());
                    rest = after;
                    let _ = pending.reply.send(Ok(Reply::from_slice(mine)));
                }
            }
            Err(error) => {
                for pending in batch {
                    let _ = pending.reply.send(Err(error.duplicate()));
                }
            }
        }
    }

    /// `EVALSHA`, loading the script first when its hash is unknown, and
    /// falling back to `EVAL` (which caches it) on `NOSCRIPT`: a failover or
    /// restart empties the script cache and `SCRIPT LOAD` is not replicated.
    ///
    /// Sent as a plain command so that the connection pipelines it (each
    /// decision's `NOSCRIPT` is handled on its own, so pipelining is safe).
    async fn eval(&self, batch: &[Pending]) -> Result<Vec<i64>, fred::error::Error> {
        let client = self.pool.next_connected();
        let sha = self
            .shared
            .sha
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sha = match sha {
            Some(sha) => sha,
            None => {
                let sha: String = client.script_load(SCRIPT).await?;
                *self
                    .shared
                    .sha
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(sha.clone());
                sha
            }
        };
        // The first key routes the call in a cluster (all share its slot).
        let command = |name| CustomCommand::new_static(name, ClusterHash::Offset(2), false);
        let mut values = arguments(batch);
        values[0] = Value::from(sha);
        match client.custom(command("EVALSHA"), values).await {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                // Rare (after a restart or failover): the arguments are
                // built again rather than kept for every call.
                let mut values = arguments(batch);
                values[0] = Value::from(SCRIPT);
                client.custom(command("EVAL"), values).await
            }
            reply => reply,
        }
    }
}

/// The script call's arguments for `batch`: a placeholder for the script
/// or its hash, the number of keys, the keys, then `ARGV` (see [`SCRIPT`]).
fn arguments(batch: &[Pending]) -> Vec<Value> {
    let n_keys: usize = batch.iter().map(|pending| pending.keys.len()).sum();
    // Decisions of one rule (usually all of them) share its arguments.
    let mut rules: SmallVec<[&[i64]; 4]> = SmallVec::new();
    let mut indices: SmallVec<[i64; 64]> = SmallVec::with_capacity(batch.len());
    for pending in batch {
        let index = match rules.iter().position(|rule| *rule == &pending.rule[..]) {
            Some(index) => index,
            None => {
                rules.push(&pending.rule);
                rules.len() - 1
            }
        };
        indices.push(i64::try_from(index + 1).unwrap_or(i64::MAX));
    }
    let n_rules: usize = rules.iter().map(|rule| 1 + rule.len()).sum();
    let mut values: Vec<Value> = Vec::with_capacity(3 + n_keys + n_rules + 2 * batch.len());
    values.push(Value::Null); // the script or its hash
    values.push(Value::Integer(i64::try_from(n_keys).unwrap_or(i64::MAX)));
    for pending in batch {
        values.extend(
            pending
                .keys
                .iter()
                .map(|key| Value::Bytes(key.inner().clone())),
        );
    }
    values.push(Value::Integer(
        i64::try_from(rules.len()).unwrap_or(i64::MAX),
    ));
    for rule in &rules {
        values.push(Value::Integer(
            i64::try_from(rule.len() / 2).unwrap_or(i64::MAX),
        ));
        values.extend(rule.iter().map(|&arg| Value::Integer(arg)));
    }
    let uniform = match (&rules[..], batch.first()) {
        ([rule], Some(first)) => {
            rule.len() == 2 && batch.iter().all(|pending| pending.cost == first.cost)
        }
        _ => false,
    };
    match batch.first() {
        Some(first) if uniform => {
            values.push(Value::from_static_str("u"));
            values.push(Value::Integer(first.cost));
        }
        _ => {
            for (pending, index) in batch.iter().zip(indices) {
                values.push(Value::Integer(index));
                values.push(Value::Integer(pending.cost));
            }
        }
    }
    values
}

fn redis(source: fred::error::Error) -> StoreError {
    StoreError::Redis { source }
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
