//! What a Redis store knows about its connection: starting, up or down.
//!
//! A store whose pool is still making its first connection sends every
//! decision (each waits in the pool's buffer, up to the store's timeout);
//! only once Redis is known to be down (a connection was up and failed, or
//! the first connection did not come up within its grace) are decisions
//! answered at once while no connection is up.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::ClientLike;
use strata_core::redis::fred::types::config::ReconnectPolicy;

const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// The store's view of its connection to Redis.
#[derive(Debug)]
pub(crate) struct Link {
    phase: AtomicU8,
    created: Instant,
    /// How long the first connection may take before a failure counts as
    /// an outage: the pool's connection timeout plus its first reconnect
    /// delay (a pool connected through `fred`'s own `connect_pool()` waits
    /// that long before its first attempt).
    grace: Duration,
}

/// What a decision should do, given what is known of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Send it to Redis.
    Send,
    /// Redis is known to be down and no connection is up: answer now.
    Skip,
}

impl Link {
    pub(crate) fn new(pool: &Pool) -> Self {
        let client = pool.next();
        let first_delay = match client.client_reconnect_policy() {
            Some(
                ReconnectPolicy::Exponential {
                    min_delay: delay,
                    jitter,
                    ..
                }
                | ReconnectPolicy::Constant { delay, jitter, .. }
                | ReconnectPolicy::Linear { delay, jitter, .. },
            ) => u64::from(delay) + u64::from(jitter),
            None => 0,
        };
        Self {
            phase: AtomicU8::new(STARTING),
            created: Instant::now(),
            grace: client.connection_config().connection_timeout
                + Duration::from_millis(first_delay),
        }
    }

    /// Whether a decision goes to Redis now.
    pub(crate) fn route(&self, pool: &Pool) -> Route {
        if self.phase.load(Ordering::Relaxed) == DOWN && !pool.next_connected().is_connected() {
            Route::Skip
        } else {
            Route::Send
        }
    }

    /// Records a successful call; true when Redis was down before it.
    pub(crate) fn succeeded(&self) -> bool {
        self.phase.swap(UP, Ordering::Relaxed) == DOWN
    }

    /// Records a failed call; true when this failure is the one that marks
    /// Redis down (log it), false when it was down already or the first
    /// connection is still within its grace.
    pub(crate) fn failed(&self) -> bool {
        match self.phase.load(Ordering::Relaxed) {
            DOWN => false,
            STARTING if self.created.elapsed() < self.grace => false,
            _ => self.phase.swap(DOWN, Ordering::Relaxed) != DOWN,
        }
    }
}
