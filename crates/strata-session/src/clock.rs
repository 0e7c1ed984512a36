//! The clock sessions are timed by.

use std::time::{SystemTime, UNIX_EPOCH};

/// What the layer reads the time from: idle timeouts, absolute lifetimes,
/// touch throttling and rotation grace windows are all measured on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clock {
    /// The system's wall clock (Unix time). Instances sharing a store
    /// should keep their clocks in sync (NTP).
    #[default]
    System,
    /// The wall clock when the layer was built, advanced by tokio's clock:
    /// with `tokio::time::pause()`, tests move session time with
    /// `tokio::time::advance`.
    Tokio,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Now {
    System,
    Tokio {
        base_ms: u64,
        start: tokio::time::Instant,
    },
}

impl Now {
    pub(crate) fn new(clock: Clock) -> Self {
        match clock {
            Clock::System => Self::System,
            Clock::Tokio => Self::Tokio {
                base_ms: system_ms(),
                start: tokio::time::Instant::now(),
            },
        }
    }

    /// Unix time in milliseconds.
    pub(crate) fn ms(&self) -> u64 {
        match self {
            Self::System => system_ms(),
            Self::Tokio { base_ms, start } => {
                let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                base_ms.saturating_add(elapsed)
            }
        }
    }
}

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
