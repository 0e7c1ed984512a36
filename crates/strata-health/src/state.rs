//! The shared state behind every copy of the layer: check slots with their
//! cached results, single-flight refreshes and the background refresher.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::endpoint::Details;
use crate::{Drain, Endpoint, Observation, Registration, Status};

/// The service fields of every report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub(crate) version: Option<String>,
    pub(crate) release_id: Option<String>,
    pub(crate) service_id: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) environment: Option<String>,
}

/// One finished run of a check.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) observation: Observation,
    /// When it finished, for the `time` member.
    pub(crate) time: SystemTime,
    /// When it finished, for the cache age.
    pub(crate) at: Instant,
}

type Pending = watch::Receiver<Option<Arc<Run>>>;

#[derive(Debug, Default)]
struct SlotState {
    last: Option<Arc<Run>>,
    pending: Option<Pending>,
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) key: String,
    pub(crate) registration: Registration,
    pub(crate) timeout: Duration,
    state: Mutex<SlotState>,
}

impl Slot {
    pub(crate) fn new(registration: Registration, default_timeout: Duration) -> Self {
        Self {
            key: registration.key(),
            timeout: registration.timeout.unwrap_or(default_timeout),
            registration,
            state: Mutex::new(SlotState::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The status this check contributes to an aggregate.
    pub(crate) fn effective(&self, status: Status) -> Status {
        if self.registration.critical {
            status
        } else {
            status.min(Status::Warn)
        }
    }
}

/// A route and the checks its endpoint runs.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) path: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) checks: Vec<usize>,
}

/// A check's current result, or the refresh to wait for.
#[derive(Debug)]
pub(crate) enum Lookup {
    Fresh(Arc<Run>),
    Waiting(Pending),
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) slots: Box<[Slot]>,
    /// Checks the user registered: `slots[..user]`; after them the system sampler.
    pub(crate) user: usize,
    pub(crate) system: Option<usize>,
    pub(crate) routes: Vec<Route>,
    pub(crate) meta: Meta,
    pub(crate) summaries: crate::report::Summaries,
    pub(crate) details: Details,
    pub(crate) ttl: Duration,
    /// The TTL of a result that is not `pass` (at most `ttl`).
    pub(crate) failure_ttl: Duration,
    pub(crate) refresh_every: Option<Duration>,
    pub(crate) background: AtomicBool,
    pub(crate) drain: Drain,
    pub(crate) started: std::time::Instant,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<crate::HealthMetrics>,
}

impl Shared {
    /// The index of the route serving `path`.
    pub(crate) fn route(&self, path: &str) -> Option<usize> {
        self.routes.iter().position(|route| route.path == path)
    }

    /// The result of check `index` if younger than its TTL (the failure TTL
    /// unless it passed) and not `force`d; otherwise the refresh in flight,
    /// started if there is none.
    pub(crate) fn lookup(self: &Arc<Self>, index: usize, force: bool) -> Lookup {
        let slot = &self.slots[index];
        let mut state = slot.lock();
        if !force
            && let Some(run) = &state.last
            && run.at.elapsed() < self.ttl_of(run)
        {
            return Lookup::Fresh(Arc::clone(run));
        }
        if let Some(pending) = &state.pending {
            return Lookup::Waiting(pending.clone());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let run = Arc::new(finished(Observation::fail(
                "no Tokio runtime to run the check on",
            )));
            return Lookup::Fresh(run);
        };
        let (tx, rx) = watch::channel(None);
        state.pending = Some(rx.clone());
        drop(state);
        runtime.spawn(Arc::clone(self).refresh(index, tx));
        Lookup::Waiting(rx)
    }

    fn ttl_of(&self, run: &Run) -> Duration {
        if run.observation.status() == Status::Pass {
            self.ttl
        } else {
            self.failure_ttl
        }
    }

    /// Runs check `index` once under its timeout and publishes the result.
    async fn refresh(self: Arc<Self>, index: usize, tx: watch::Sender<Option<Arc<Run>>>) {
        let slot = &self.slots[index];
        let check = Arc::clone(&slot.registration.check);
        let started = Instant::now();
        // Its own task: a panicking check is a `fail`, not a stuck slot.
        let mut task = tokio::spawn(async move { check.run().await });
        let observation = match tokio::time::timeout(slot.timeout, &mut task).await {
            Ok(Ok(observation)) => observation,
            Ok(Err(error)) if error.is_panic() => Observation::fail("the check panicked"),
            Ok(Err(_)) => Observation::fail("the check was cancelled"),
            Err(_) => {
                task.abort();
                Observation::fail(format!("timed out after {} ms", slot.timeout.as_millis()))
            }
        };
        let elapsed = started.elapsed();
        let run = Arc::new(finished(observation));
        if index < self.user {
            self.record(slot, &run, elapsed);
        }
        let previous = {
            let mut state = slot.lock();
            state.pending = None;
            state.last.replace(Arc::clone(&run))
        };
        if index < self.user {
            log_transition(slot, previous.as_deref(), &run);
        }
        tx.send_replace(Some(run));
    }

    #[cfg_attr(not(feature = "prometheus"), allow(clippy::unused_self))]
    fn record(&self, slot: &Slot, run: &Run, elapsed: Duration) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.record(&slot.key, run.observation.status(), elapsed);
        }
        #[cfg(not(feature = "prometheus"))]
        let _ = (slot, run, elapsed);
    }

    /// Starts the background refresher once, if configured and a runtime is
    /// at hand. It holds only a weak reference: dropping every copy of the
    /// layer ends it.
    pub(crate) fn ensure_background(self: &Arc<Self>) {
        let Some(every) = self.refresh_every else {
            return;
        };
        if self.background.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(self);
        runtime.spawn(background(weak, every));
    }
}

async fn background(weak: Weak<Shared>, every: Duration) {
    // The first round one interval after start: at start, clients such as a
    // Redis pool are still connecting, and a failure would be cached.
    let mut ticker = tokio::time::interval_at(Instant::now() + every, every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let pending: Vec<Lookup> = (0..shared.slots.len())
            .map(|index| shared.lookup(index, true))
            .collect();
        drop(shared);
        for lookup in pending {
            resolve(lookup).await;
        }
    }
}

/// Waits for a lookup's result.
pub(crate) async fn resolve(lookup: Lookup) -> Arc<Run> {
    match lookup {
        Lookup::Fresh(run) => run,
        Lookup::Waiting(mut rx) => match rx.wait_for(Option::is_some).await {
            Ok(run) => run.as_ref().map_or_else(cancelled, Arc::clone),
            Err(_) => cancelled(),
        },
    }
}

fn cancelled() -> Arc<Run> {
    Arc::new(finished(Observation::fail("the check was cancelled")))
}

fn finished(observation: Observation) -> Run {
    Run {
        observation,
        time: SystemTime::now(),
        at: Instant::now(),
    }
}

fn log_transition(slot: &Slot, previous: Option<&Run>, run: &Run) {
    let status = run.observation.status();
    let before = previous.map(|p| p.observation.status());
    if before == Some(status) || (before.is_none() && status == Status::Pass) {
        return;
    }
    let output = run.observation.get_output().unwrap_or_default();
    let key = slot.key.as_str();
    match status {
        Status::Pass => tracing::info!(check = key, "health check passes again"),
        Status::Warn => tracing::warn!(check = key, output, "health check warns"),
        Status::Fail if slot.registration.critical => {
            tracing::error!(check = key, output, "critical health check fails");
        }
        Status::Fail => tracing::warn!(check = key, output, "non-critical health check fails"),
    }
}
