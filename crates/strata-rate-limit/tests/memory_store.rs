//! The conformance suite against `MemoryStore`, on tokio's paused clock.

mod common;

use common::Clock;
use strata_rate_limit::{MemoryClock, MemoryStore};

conformance_suite!(
    MemoryStore::new().clock(MemoryClock::Tokio),
    Clock::Paused,
    flavor = "current_thread",
    start_paused = true
);
