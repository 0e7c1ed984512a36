//! The memory backend's clock.
//!
//! The store reads tokio's clock (paused and advanced in tests) once per
//! decision and pins that reading for the `governor` limiters it calls on the
//! same thread, so governor's decision and the numbers reported in headers
//! come from the same instant.

use std::cell::Cell;
use std::ops::Add;

use governor::clock::{Clock, Reference};
use governor::nanos::Nanos;

thread_local! {
    static NOW: Cell<u64> = const { Cell::new(0) };
}

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

/// The pinned reading, as a governor clock. A limiter is created with the
/// reading pinned at 0, so its start is the store's origin and all state is
/// in nanoseconds since that origin.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pinned;

impl Pinned {
    /// Pins `now` for the governor calls that follow on this thread.
    #[inline]
    pub(crate) fn set(now: u64) {
        NOW.with(|cell| cell.set(now));
    }
}

impl Clock for Pinned {
    type Instant = Tick;

    #[inline]
    fn now(&self) -> Tick {
        Tick(NOW.with(Cell::get))
    }
}
