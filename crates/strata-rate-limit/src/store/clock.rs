//! The memory backend's clock: tokio's, so tests can pause and advance it.

use std::ops::Add;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use governor::clock::{Clock, Reference};
use governor::nanos::Nanos;
use tokio::time::Instant;

/// Nanoseconds since the store's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Tick(pub(crate) u64);

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

/// Reads `tokio::time::Instant` (paused and advanced in tests) as [`Tick`]s
/// since a shared origin.
///
/// A limiter takes its start from the first reading of its clock; that
/// reading is `Tick(0)`, so every limiter's state is in nanoseconds since the
/// same origin and the store can read and restore it.
#[derive(Debug, Clone)]
pub(crate) struct Ticks {
    origin: Instant,
    started: Arc<AtomicBool>,
}

impl Ticks {
    pub(crate) fn new(origin: Instant) -> Self {
        Self {
            origin,
            started: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A clock for a new limiter: same origin, first reading zero.
    pub(crate) fn for_limiter(&self) -> Self {
        Self::new(self.origin)
    }

    pub(crate) fn nanos(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl Clock for Ticks {
    type Instant = Tick;

    fn now(&self) -> Tick {
        if !self.started.load(Ordering::Relaxed) && !self.started.swap(true, Ordering::Relaxed) {
            return Tick(0);
        }
        Tick(self.nanos())
    }
}
