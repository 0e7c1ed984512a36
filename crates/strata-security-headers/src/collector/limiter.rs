//! Per-client report budgets: `governor`'s keyed GCRA on tokio's clock, with
//! a bounded number of tracked clients.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::ops::Add;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

/// Nanoseconds since the limiter's origin, on tokio's clock (paused in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Tick(u64);

impl Add<Nanos> for Tick {
    type Output = Self;

    fn add(self, other: Nanos) -> Self {
        Self(self.0.saturating_add(other.as_u64()))
    }
}

impl Reference for Tick {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::new(self.0.saturating_sub(earlier.0))
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        Self(self.0.saturating_sub(duration.as_u64()))
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Tick;

    fn now(&self) -> Tick {
        let since = Instant::now().saturating_duration_since(self.origin);
        Tick(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// The per-client state, shared so the limiter can tell a known client from
/// a new one before admitting it.
#[derive(Debug, Clone, Default)]
struct Clients(Arc<DashMapStateStore<IpAddr>>);

impl StateStore for Clients {
    type Key = IpAddr;

    fn measure_and_replace<T, F, E>(&self, key: &IpAddr, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<IpAddr> for Clients {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below);
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&*self.0)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&*self.0)
    }
}

type Keyed = RateLimiter<IpAddr, Clients, TokioClock, NoOpMiddleware<Tick>>;
type Direct = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Tick>>;

/// `requests` per `period` per client address, for at most `max_clients`
/// clients at once. While that many clients are mid-budget, new ones share
/// one more budget of the same size.
#[derive(Debug)]
pub(crate) struct Limiter {
    max_clients: usize,
    clock: TokioClock,
    store: Clients,
    clients: Keyed,
    overflow: Direct,
    /// When idle clients were last dropped (a [`Tick`]).
    last_retain: AtomicU64,
    warned: AtomicBool,
}

impl Limiter {
    /// `None` when the quota cannot be expressed (validated by the caller).
    pub(crate) fn new(requests: u32, period: Duration, max_clients: usize) -> Option<Self> {
        let requests = NonZeroU32::new(requests)?;
        let quota = Quota::with_period(period / requests.get())?.allow_burst(requests);
        let clock = TokioClock {
            origin: Instant::now(),
        };
        Some(Self::build(quota, clock, max_clients))
    }

    fn build(quota: Quota, clock: TokioClock, max_clients: usize) -> Self {
        let store = Clients::default();
        Self {
            max_clients,
            clock,
            clients: RateLimiter::new(quota, store.clone(), clock),
            store,
            overflow: RateLimiter::direct_with_clock(quota, clock),
            last_retain: AtomicU64::new(0),
            warned: AtomicBool::new(false),
        }
    }

    /// Takes one request from `client`'s budget, or says how long until one
    /// is available.
    pub(crate) fn take(&self, client: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        let known = self.store.0.contains_key(&client);
        if !known && ShrinkableKeyedStateStore::len(&self.store) >= self.max_clients {
            self.drop_idle(now);
        }
        let result = if known || ShrinkableKeyedStateStore::len(&self.store) < self.max_clients {
            self.clients.check_key(&client)
        } else {
            self.warn_full();
            self.overflow.check()
        };
        result.map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets clients whose budget is full again, at most once a second.
    fn drop_idle(&self, now: Tick) {
        let last = self.last_retain.load(Ordering::Relaxed);
        let second = 1_000_000_000;
        if (last == 0 || now.0.saturating_sub(last) >= second)
            && self
                .last_retain
                .compare_exchange(last, now.0.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.clients.retain_recent();
        }
    }

    fn warn_full(&self) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "strata_security_headers::csp",
                max_clients = self.max_clients,
                "CSP reports: more clients than the collector tracks are mid-budget; new \
                 clients share one budget until some go idle (raise \
                 CspReportCollectorBuilder::rate_limit_clients if this is real traffic); logged once"
            );
        }
    }
}
