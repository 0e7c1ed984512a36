//! [`Link`]: what a Redis-backed store knows about its connection.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use fred::clients::Pool;
use fred::interfaces::ClientLike;
use fred::types::config::ReconnectPolicy;

const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// A store's view of its connection to Redis: starting, up or down.
///
/// While the pool makes its first connection every call is sent (each
/// waits in the pool's buffer up to the store's timeout); once Redis is
/// known to be down (a connection was up and failed, or the first one did
/// not come up within its grace), [`route`](Self::route) answers
/// [`Route::Skip`] while no connection is up, so a known outage costs calls
/// no timeout.
#[derive(Debug)]
pub struct Link {
    phase: AtomicU8,
    created: Instant,
    /// How long the first connection may take before a failure counts as
    /// an outage: the pool's connection timeout plus its first reconnect
    /// delay (a pool connected through `fred`'s own `connect_pool()` waits
    /// that long before its first attempt).
    grace: Duration,
}

/// What a store call should do, given what is known of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Send it to Redis.
    Send,
    /// Redis is known to be down and no connection is up: answer now.
    Skip,
}

impl Link {
    /// The view of a store that uses `pool`, before its first call.
    pub fn new(pool: &Pool) -> Self {
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

    /// Whether a call goes to Redis now.
    pub fn route(&self, pool: &Pool) -> Route {
        if self.phase.load(Ordering::Relaxed) == DOWN && !pool.next_connected().is_connected() {
            Route::Skip
        } else {
            Route::Send
        }
    }

    /// Records a successful call; true when Redis was down before it.
    pub fn succeeded(&self) -> bool {
        self.phase.swap(UP, Ordering::Relaxed) == DOWN
    }

    /// Records a failed call; true when this failure is the one that marks
    /// Redis down (log it), false when it was down already or the first
    /// connection is still within its grace.
    pub fn failed(&self) -> bool {
        match self.phase.load(Ordering::Relaxed) {
            DOWN => false,
            STARTING if self.created.elapsed() < self.grace => false,
            _ => self.phase.swap(DOWN, Ordering::Relaxed) != DOWN,
        }
    }
}
