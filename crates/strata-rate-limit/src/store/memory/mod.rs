//! The in-memory backend: the crate's GCRA over one bounded key map per
//! policy.

mod clock;
mod decide;
mod limiter;

use std::collections::HashMap;
use std::fmt;
use std::hash::RandomState;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use strata_core::ConfigError;

use self::clock::Clock;
use self::limiter::Limiter;
use crate::Policy;
use crate::decision::Gcra;

pub use self::clock::MemoryClock;

/// Default for [`MemoryStore::max_keys`].
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;
/// Default for [`MemoryStore::sweep_interval`].
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(30);
pub(super) const LOCK_SHARDS: usize = 64;

/// Rate-limit state in this process: per policy, each key's theoretical
/// arrival time, updated lock-free with the same integer GCRA the Redis
/// store's script runs.
///
/// Cloning shares the state. Memory is bounded:
///
/// - A key whose quota has fully replenished carries no information and is
///   removed by a sweep every [`sweep_interval`](Self::sweep_interval)
///   (default 30 s), run on the blocking pool by the first request after the
///   interval. A key is thus kept at most one period plus one interval after
///   its last request.
/// - At most [`max_keys`](Self::max_keys) keys per policy (default
///   1,000,000) are tracked; `docs/rate-limit.md` gives the measured cost
///   of a key. Beyond that, new keys are judged as fresh keys and not stored
///   until a sweep (triggered at once) frees room.
///
/// The settings are checked when a layer using the store is built
/// ([`RateLimitBuilder::build`](crate::RateLimitBuilder::build)).
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

    /// The first invalid setting, named `MemoryStore::<method>`.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.inner.max_keys == 0 {
            return Err(ConfigError::invalid(
                "MemoryStore::max_keys",
                "must be at least 1",
            ));
        }
        let interval = self.inner.sweep_interval;
        if interval < Duration::from_millis(10) || interval > Duration::from_secs(3600) {
            return Err(ConfigError::invalid(
                "MemoryStore::sweep_interval",
                "must be between 10 ms and one hour",
            ));
        }
        Ok(())
    }

    /// Keys currently stored, summed over policies.
    pub fn len(&self) -> usize {
        self.read_limiters().values().map(|l| l.len()).sum()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every key whose quota has fully replenished, now.
    pub fn sweep(&self) {
        let limiters: Vec<Arc<Limiter>> = self.read_limiters().values().cloned().collect();
        let now = self.now();
        for limiter in &limiters {
            limiter.sweep(now);
        }
    }

    /// Forgets `key` under the policies named `policy` (every policy when
    /// `None`); how many states were removed.
    pub(crate) fn forget(&self, key: &crate::Key, policy: Option<&str>) -> u64 {
        let limiters = self.read_limiters();
        let removed = limiters
            .iter()
            .filter(|(p, _)| policy.is_none_or(|name| p.name() == name))
            .filter(|(_, limiter)| limiter.remove(key))
            .count();
        removed as u64
    }

    /// How many policies named `policy` (every policy when `None`) hold
    /// state for `key` that has not replenished yet.
    pub(crate) fn held(&self, key: &crate::Key, policy: Option<&str>) -> u64 {
        let now = self.now();
        let limiters = self.read_limiters();
        let held = limiters
            .iter()
            .filter(|(p, _)| policy.is_none_or(|name| p.name() == name))
            .filter(|(_, limiter)| limiter.read(key).is_some_and(|tat| tat > now))
            .count();
        held as u64
    }

    /// Nanoseconds since the store was built.
    #[inline]
    fn now(&self) -> u64 {
        self.inner.clock.now()
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

    fn limiter(&self, policy: &Policy) -> Arc<Limiter> {
        if let Some(limiter) = self.read_limiters().get(policy) {
            return Arc::clone(limiter);
        }
        let mut limiters = self
            .inner
            .limiters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let limiter = limiters
            .entry(policy.clone())
            .or_insert_with(|| Arc::new(Limiter::new(gcra(policy), self.inner.max_keys)));
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
                .any(|limiter| limiter.full.load(Ordering::Relaxed))
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
        let sweeping = Arc::clone(&self.inner.sweeping);
        let store = self.clone();
        let job = move || {
            store.sweep();
            sweeping.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(job)),
            Err(_) => job(),
        }
    }
}

/// A policy in the memory store's units: nanoseconds.
fn gcra(policy: &Policy) -> Gcra {
    Gcra {
        t: policy.quota().emission_micros().saturating_mul(1000),
        burst: u64::from(policy.quota().burst_size()),
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
