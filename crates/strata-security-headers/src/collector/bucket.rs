//! A token bucket bounding the report rate across all clients.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Bucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(requests: u32, period: Duration) -> Self {
        let capacity = f64::from(requests);
        Self {
            capacity,
            tokens: capacity,
            per_second: capacity / period.as_secs_f64(),
            last: Instant::now(),
        }
    }

    /// The same limit, full.
    pub(crate) fn fresh(&self) -> Self {
        Self {
            tokens: self.capacity,
            last: Instant::now(),
            ..*self
        }
    }

    /// Takes a token, or says how long until one is available.
    pub(crate) fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

/// Locks the bucket; a poisoned lock still holds a valid bucket.
pub(crate) fn lock(bucket: &Mutex<Bucket>) -> MutexGuard<'_, Bucket> {
    bucket.lock().unwrap_or_else(PoisonError::into_inner)
}
