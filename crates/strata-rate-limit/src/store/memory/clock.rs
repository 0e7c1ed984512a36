//! The clock a [`MemoryStore`](crate::MemoryStore) decides on.

use tokio::time::Instant;

/// The clock a [`MemoryStore`](crate::MemoryStore) reads, once per decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryClock {
    /// The CPU's invariant time-stamp counter, read through `quanta` (the
    /// operating system's monotonic clock where no stable counter exists):
    /// cheaper to read than the OS clock (see `docs/rate-limit.md`). It does
    /// not follow tokio's paused time.
    #[default]
    Fast,
    /// tokio's clock, `tokio::time::Instant`: follows
    /// `tokio::time::pause` and `advance`, so tests on paused time see
    /// quotas refill as time is advanced.
    Tokio,
}

/// The clock and the reading taken as the store's origin.
pub(super) enum Clock {
    Fast { clock: quanta::Clock, origin: u64 },
    Tokio(Instant),
}

impl Clock {
    pub(super) fn new(kind: MemoryClock) -> Self {
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

    pub(super) fn kind(&self) -> MemoryClock {
        match self {
            Self::Fast { .. } => MemoryClock::Fast,
            Self::Tokio(_) => MemoryClock::Tokio,
        }
    }

    /// Nanoseconds since the origin.
    #[inline]
    pub(super) fn now(&self) -> u64 {
        match self {
            Self::Fast { clock, origin } => clock.delta_as_nanos(*origin, clock.raw()),
            Self::Tokio(origin) => u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }
}
