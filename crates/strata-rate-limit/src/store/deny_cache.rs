//! Refusals remembered locally, so a client hammering past its limit costs
//! the Redis store no round trip.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::decision::Evaluation;

/// Refused keys and when they may try again, so a client hammering past its
/// limit costs no round trip. Bounded: when full, expired entries are
/// dropped; if none are, the new entry is not remembered.
pub(crate) struct DenyCache {
    max: usize,
    entries: Mutex<HashMap<String, (Instant, Instant, Evaluation)>>,
}

impl DenyCache {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Instant, Evaluation)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached refusal, its times shortened by the time since.
    pub(crate) fn get(&self, key: &str) -> Option<Evaluation> {
        if self.max == 0 {
            return None;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        let (at, until, decision) = entries.get(key)?;
        if now >= *until {
            entries.remove(key);
            return None;
        }
        let elapsed = now - *at;
        let mut decision = decision.clone();
        for state in &mut decision.states {
            state.reset = state.reset.saturating_sub(elapsed);
            state.retry_after = state.retry_after.saturating_sub(elapsed);
            if state.limited {
                state.retry_after = state.retry_after.max(Duration::from_micros(1));
            }
        }
        Some(decision)
    }

    pub(crate) fn insert(&self, key: String, decision: &Evaluation) {
        let wait = decision.retry_after();
        if self.max == 0 || wait.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= self.max {
            entries.retain(|_, (_, until, _)| *until > now);
            if entries.len() >= self.max {
                return;
            }
        }
        entries.insert(key, (now, now + wait, decision.clone()));
    }
}
