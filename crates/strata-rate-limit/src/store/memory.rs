//! The in-memory backend: one `governor` keyed limiter per policy.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;

use governor::{Quota as GovernorQuota, RateLimiter};
use strata_core::ConfigError;
use tokio::time::Instant;

use super::clock::{Pinned, Tick};
use super::tats::{KeyMap, PREV, TatMap, Tats};
use super::{Store, StoreError};
use smallvec::SmallVec;

use crate::decision::{Counts, Eval, Evaluation, Gcra};
use crate::rule::MAX_POLICIES;
use crate::{Decision, Key, Policy};

/// The clock a [`MemoryStore`] reads, once per decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryClock {
    /// The CPU's invariant time-stamp counter, read through `quanta` (the
    /// operating system's monotonic clock where no stable counter exists):
    /// about 12 ns a read against 21 ns for the OS clock on the benchmark
    /// machine. It does not follow tokio's paused time.
    #[default]
    Fast,
    /// tokio's clock, `tokio::time::Instant`: follows
    /// `tokio::time::pause` and `advance`, so tests on paused time see
    /// quotas refill as time is advanced.
    Tokio,
}

/// The clock and the reading taken as the store's origin.
enum Clock {
    Fast { clock: quanta::Clock, origin: u64 },
    Tokio(Instant),
}

impl Clock {
    fn new(kind: MemoryClock) -> Self {
        match kind {
            MemoryClock::Fast => {
                // Calibrates (once per process) here, not on a request.
                let clock = quanta::Clock::new();
                let origin = clock.raw();
                Self::Fast { clock, origin }
            }
            MemoryClock::Tokio => Self::Tokio(Instant::now()),
        }
    }

    fn kind(&self) -> MemoryClock {
        match self {
            Self::Fast { .. } => MemoryClock::Fast,
            Self::Tokio(_) => MemoryClock::Tokio,
        }
    }
}

/// Default for [`MemoryStore::max_keys`].
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;
/// Default for [`MemoryStore::sweep_interval`].
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(30);
const LOCK_SHARDS: usize = 64;

/// Rate-limit state in this process: a `governor` keyed limiter per policy.
///
/// Cloning shares the state. Memory is bounded:
///
/// - A key whose quota has fully replenished carries no information and is
///   removed by a sweep every [`sweep_interval`](Self::sweep_interval)
///   (default 30 s), run on the blocking pool by the first request after the
///   interval. A key is thus kept at most one period plus one interval after
///   its last request.
/// - At most [`max_keys`](Self::max_keys) keys per policy (default
///   1,000,000) are tracked, each costing about 70 bytes plus the key's
///   text (IP keys have none); see `docs/rate-limit.md` for measurements.
///   Beyond that, new keys are judged as fresh keys and not stored until a
///   sweep (triggered at once) frees room.
///
/// ```
/// use strata_rate_limit::{Key, MemoryStore, Policy, Quota, Store};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new().max_keys(10_000);
/// let policies = [Policy::new("per-ip", Quota::per_minute(2))];
/// let key = Key::ip("192.0.2.1".parse()?);
/// assert!(store.check(&key, &policies, 1).await?.is_allowed());
/// assert!(store.check(&key, &policies, 1).await?.is_allowed());
/// assert!(!store.check(&key, &policies, 1).await?.is_allowed());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    limiters: RwLock<HashMap<Policy, Arc<Limiter>>>,
    locks: Box<[Mutex<()>]>,
    hasher: RandomState,
    max_keys: usize,
    sweep_interval: Duration,
    next_sweep: AtomicU64,
    sweeping: Arc<AtomicBool>,
}

type Governor = RateLimiter<Key, Tats, Pinned, NoOpMiddleware<Tick>>;

struct Limiter {
    governor: Governor,
    tats: Tats,
    gcra: Gcra,
    /// Part of a rule with several policies: checks take the key's lock.
    multi: AtomicBool,
}

/// The limiters of one rule, looked up once when the layer is built.
#[derive(Clone)]
pub(crate) struct Prepared {
    limiters: Arc<[Arc<Limiter>]>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("policies", &self.limiters.len())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store with the default bounds.
    pub fn new() -> Self {
        Self::build(DEFAULT_MAX_KEYS, DEFAULT_SWEEP_INTERVAL, MemoryClock::Fast)
    }

    fn build(max_keys: usize, sweep_interval: Duration, clock: MemoryClock) -> Self {
        let first_sweep = u64::try_from(sweep_interval.as_nanos()).unwrap_or(u64::MAX);
        Self {
            inner: Arc::new(Inner {
                clock: Clock::new(clock),
                limiters: RwLock::default(),
                locks: (0..LOCK_SHARDS).map(|_| Mutex::new(())).collect(),
                hasher: RandomState::new(),
                max_keys,
                sweep_interval,
                next_sweep: AtomicU64::new(first_sweep),
                sweeping: Arc::default(),
            }),
        }
    }

    /// Keys tracked per policy at most. Default 1,000,000; at least 1.
    /// Replaces the store's state (call it before use).
    #[must_use]
    pub fn max_keys(self, max_keys: usize) -> Self {
        Self::build(max_keys, self.inner.sweep_interval, self.inner.clock.kind())
    }

    /// How often replenished keys are removed. Default 30 s; between 10 ms
    /// and one hour. Replaces the store's state (call it before use).
    #[must_use]
    pub fn sweep_interval(self, interval: Duration) -> Self {
        Self::build(self.inner.max_keys, interval, self.inner.clock.kind())
    }

    /// The clock decisions are made on. Default [`MemoryClock::Fast`]; tests
    /// that pause tokio's clock choose [`MemoryClock::Tokio`]. Replaces the
    /// store's state (call it before use).
    ///
    /// ```
    /// use std::time::Duration;
    /// use strata_rate_limit::{Key, MemoryClock, MemoryStore, Policy, Quota, Store};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::new().clock(MemoryClock::Tokio);
    /// let policies = [Policy::new("per-ip", Quota::per_minute(1))];
    /// let key = Key::ip("192.0.2.1".parse()?);
    /// assert!(store.check(&key, &policies, 1).await?.is_allowed());
    /// assert!(!store.check(&key, &policies, 1).await?.is_allowed());
    /// tokio::time::advance(Duration::from_secs(60)).await;
    /// assert!(store.check(&key, &policies, 1).await?.is_allowed());
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn clock(self, clock: MemoryClock) -> Self {
        Self::build(self.inner.max_keys, self.inner.sweep_interval, clock)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.inner.max_keys == 0 {
            return Err(ConfigError::OutOfRange {
                name: "max_keys",
                reason: "must be at least 1",
            });
        }
        let interval = self.inner.sweep_interval;
        if interval < Duration::from_millis(10) || interval > Duration::from_secs(3600) {
            return Err(ConfigError::OutOfRange {
                name: "sweep_interval",
                reason: "must be between 10 ms and one hour",
            });
        }
        Ok(())
    }

    /// Keys currently stored, summed over policies.
    pub fn len(&self) -> usize {
        self.read_limiters()
            .values()
            .map(|limiter| limiter.tats.0.map.len())
            .sum()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every key whose quota has fully replenished, now.
    pub fn sweep(&self) {
        let limiters: Vec<Arc<Limiter>> = self.read_limiters().values().cloned().collect();
        sweep(&limiters, self.now());
    }

    /// Nanoseconds since the store was built.
    #[inline]
    fn now(&self) -> u64 {
        match &self.inner.clock {
            Clock::Fast { clock, origin } => clock.delta_as_nanos(*origin, clock.raw()),
            Clock::Tokio(origin) => u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// Looks up (or creates) the limiters of a rule's policies.
    pub(crate) fn prepare(&self, policies: &[Policy]) -> Prepared {
        let limiters: Arc<[Arc<Limiter>]> = policies.iter().map(|p| self.limiter(p)).collect();
        if limiters.len() > 1 {
            for limiter in limiters.iter() {
                limiter.multi.store(true, Ordering::Relaxed);
            }
        }
        Prepared { limiters }
    }

    /// The decision, synchronously.
    pub(crate) fn decide(&self, key: &Key, policies: &[Policy], cost: u32) -> Evaluation {
        let prepared = self.prepare(&policies[..policies.len().min(MAX_POLICIES)]);
        self.decide_prepared(&prepared, key, policies, cost)
    }

    /// The decision with a rule's limiters already looked up (the layer's
    /// path).
    #[inline]
    pub(crate) fn decide_prepared(
        &self,
        prepared: &Prepared,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> Evaluation {
        let limiters = &prepared.limiters[..prepared.limiters.len().min(policies.len())];
        if let Some((limiter, n)) = usual(limiters, cost) {
            // The same steps as the loop below, without lock or undo.
            let now = self.now();
            Pinned::set(now);
            PREV.with(|cell| cell.set(None));
            let granted = matches!(limiter.governor.check_key_n(key, n), Ok(Ok(())));
            let mut eval = limiter
                .gcra
                .eval(PREV.with(Cell::get), now, u64::from(cost));
            eval.allowed = granted;
            self.maybe_sweep(now, limiters);
            let mut states = SmallVec::new();
            states.push(counts(eval));
            return Evaluation {
                allowed: granted,
                states,
            };
        }
        self.decide_general(limiters, key, cost)
    }

    /// Whether the request is allowed, when nothing will read the numbers
    /// (no headers, no metrics): the usual case of
    /// [`decide_prepared`](Self::decide_prepared) with nothing but a `bool`
    /// to return. `false` also means "not the usual case": the caller then
    /// decides in full (a refusal consumed nothing, so deciding again is
    /// sound).
    #[inline]
    pub(crate) fn allow_quietly(&self, prepared: &Prepared, key: &Key, cost: u32) -> bool {
        let Some((limiter, n)) = usual(&prepared.limiters, cost) else {
            return false;
        };
        let now = self.now();
        Pinned::set(now);
        let granted = matches!(limiter.governor.check_key_n(key, n), Ok(Ok(())));
        self.maybe_sweep(now, &prepared.limiters);
        granted
    }

    /// [`decide_prepared`](Self::decide_prepared) for several policies, a
    /// policy ever checked with others, or a cost of 0 or above the burst.
    fn decide_general(&self, limiters: &[Arc<Limiter>], key: &Key, cost: u32) -> Evaluation {
        // Checks of a key whose policies are ever checked together run under
        // the key's lock, so undoing a refused request's charges races with
        // nothing. Other checks are lock-free.
        let locked = limiters
            .iter()
            .any(|limiter| limiter.multi.load(Ordering::Relaxed));
        let guard = locked.then(|| {
            let shard = self.inner.hasher.hash_one(key) as usize % LOCK_SHARDS;
            self.inner.locks[shard]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        });
        let now = self.now();
        Pinned::set(now);
        let mut evals: SmallVec<[(Option<u64>, Eval); 2]> = SmallVec::new();
        let mut allowed = true;
        for limiter in limiters {
            let (prev, eval) = match (allowed, NonZeroU32::new(cost)) {
                // A cost above the burst never fits: governor would not look.
                (true, Some(n)) if u64::from(cost) <= limiter.gcra.burst => {
                    // governor decides and writes the state; PREV is what it
                    // started from, so the same arithmetic gives the numbers.
                    PREV.with(|cell| cell.set(None));
                    let granted = matches!(limiter.governor.check_key_n(key, n), Ok(Ok(())));
                    let prev = PREV.with(Cell::get);
                    let mut eval = limiter.gcra.eval(prev, now, u64::from(cost));
                    eval.allowed = granted;
                    (prev, eval)
                }
                _ => {
                    let prev = limiter.tats.read(key);
                    (prev, limiter.gcra.eval(prev, now, u64::from(cost)))
                }
            };
            allowed &= eval.allowed;
            evals.push((prev, eval));
        }
        if !allowed && cost > 0 {
            for (limiter, (prev, eval)) in limiters.iter().zip(&evals) {
                if !eval.allowed {
                    // Policies after a refusal were never charged.
                    break;
                }
                limiter.tats.restore(key, *prev);
            }
        }
        drop(guard);
        self.maybe_sweep(now, limiters);
        let states = limiters
            .iter()
            .zip(evals)
            .map(|(limiter, (prev, eval))| {
                if allowed || !eval.allowed {
                    counts(eval)
                } else {
                    // This policy would allow the request but nothing was
                    // consumed: report its unchanged state.
                    counts(limiter.gcra.eval(prev, now, 0))
                }
            })
            .collect();
        Evaluation { allowed, states }
    }

    fn limiter(&self, policy: &Policy) -> Arc<Limiter> {
        if let Some(limiter) = self.read_limiters().get(policy) {
            return Arc::clone(limiter);
        }
        let mut limiters = self
            .inner
            .limiters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let limiter = limiters.entry(policy.clone()).or_insert_with(|| {
            let gcra = gcra(policy);
            let tats = Tats(Arc::new(TatMap {
                map: KeyMap::default(),
                len: AtomicUsize::new(0),
                max: self.inner.max_keys,
                full: AtomicBool::new(false),
            }));
            let quota = GovernorQuota::with_period(Duration::from_nanos(gcra.t))
                .unwrap_or_else(|| GovernorQuota::per_second(NonZeroU32::MIN))
                .allow_burst(
                    NonZeroU32::new(policy.quota().burst_size()).unwrap_or(NonZeroU32::MIN),
                );
            // The limiter's start is the pinned reading: the store's origin.
            Pinned::set(0);
            let governor = RateLimiter::new(quota, tats.clone(), Pinned);
            Arc::new(Limiter {
                governor,
                tats,
                gcra,
                multi: AtomicBool::new(false),
            })
        });
        Arc::clone(limiter)
    }

    fn read_limiters(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Policy, Arc<Limiter>>> {
        self.inner
            .limiters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    #[inline]
    fn maybe_sweep(&self, now: u64, limiters: &[Arc<Limiter>]) {
        let due = self.inner.next_sweep.load(Ordering::Relaxed);
        let full = || {
            limiters
                .iter()
                .any(|limiter| limiter.tats.0.full.load(Ordering::Relaxed))
        };
        if now < due && !full() {
            return;
        }
        self.start_sweep(now);
    }

    /// Runs a sweep on the blocking pool unless one is running.
    #[cold]
    fn start_sweep(&self, now: u64) {
        if self.inner.sweeping.swap(true, Ordering::Acquire) {
            return;
        }
        let interval = u64::try_from(self.inner.sweep_interval.as_nanos()).unwrap_or(u64::MAX);
        self.inner
            .next_sweep
            .store(now.saturating_add(interval), Ordering::Relaxed);
        let all: Vec<Arc<Limiter>> = self.read_limiters().values().cloned().collect();
        let sweeping = Arc::clone(&self.inner.sweeping);
        let store = self.clone();
        let job = move || {
            sweep(&all, store.now());
            sweeping.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(job)),
            Err(_) => job(),
        }
    }
}

/// The usual case: one policy, never checked with another (no lock,
/// nothing to undo), a cost of at least 1 that fits the burst.
#[inline]
fn usual(limiters: &[Arc<Limiter>], cost: u32) -> Option<(&Limiter, NonZeroU32)> {
    let [limiter] = limiters else {
        return None;
    };
    let n = NonZeroU32::new(cost)?;
    (!limiter.multi.load(Ordering::Relaxed) && u64::from(cost) <= limiter.gcra.burst)
        .then_some((limiter, n))
}

fn gcra(policy: &Policy) -> Gcra {
    Gcra {
        t: policy.quota().emission_micros().saturating_mul(1000),
        burst: u64::from(policy.quota().burst_size()),
    }
}

fn sweep(limiters: &[Arc<Limiter>], now: u64) {
    for limiter in limiters {
        let map = &limiter.tats.0;
        ShrinkableKeyedStateStore::retain_recent(&map.map, Nanos::new(now));
        map.map.shrink_to_fit();
        map.len.store(map.map.len(), Ordering::Relaxed);
        map.full.store(false, Ordering::Relaxed);
    }
}

/// A policy's numbers from an evaluation in nanoseconds.
fn counts(eval: Eval) -> Counts {
    Counts {
        limited: !eval.allowed,
        remaining: eval.remaining,
        reset: Duration::from_nanos(eval.reset),
        retry_after: Duration::from_nanos(eval.retry),
    }
}

impl Store for MemoryStore {
    fn check(
        &self,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> impl Future<Output = Result<Decision, StoreError>> + Send {
        std::future::ready(if policies.len() > MAX_POLICIES {
            Err(StoreError::TooManyPolicies)
        } else {
            Ok(self.decide(key, policies, cost).into_decision(policies))
        })
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("policies", &self.read_limiters().len())
            .field("max_keys", &self.inner.max_keys)
            .field("sweep_interval", &self.inner.sweep_interval)
            .field("clock", &self.inner.clock.kind())
            .finish_non_exhaustive()
    }
}
