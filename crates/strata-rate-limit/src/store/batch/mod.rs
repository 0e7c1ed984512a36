//! Decisions pending at the same moment, sent to Redis as one script call.
//!
//! Every decision is queued. A sender takes what is queued (up to
//! [`MAX_BATCH`] decisions, all of one cluster slot) and runs the script
//! once for all of them; at most [`MAX_SENDERS`] such calls are in flight,
//! and a sender that finishes takes what queued meanwhile. The decision
//! whose arrival starts a sender is that sender for its first batch (see
//! [`sender`]); further senders are tasks. Under light load
//! a batch holds one decision; under load, a script call carries many.
//!
//! Each decision carries its deadline: a sender answers it with a timeout
//! once that has passed, and bounds each call by the earliest deadline in
//! its batch, so no caller needs a timer of its own.
//!
//! The script runs a batch's decisions one after the other, each exactly
//! as it would run alone (all of its policies or none, nothing written on a
//! refusal), so batching changes how decisions travel, not what they are.

mod sender;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use smallvec::SmallVec;
use strata_core::redis::fred::types::Key as RedisKey;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub(crate) use self::sender::Sender;
use super::StoreError;

/// Most decisions in one script call (each of at most 8 policies).
pub(crate) const MAX_BATCH: usize = 64;
/// Most script calls in flight at once, per store.
pub(crate) const MAX_SENDERS: usize = 8;

/// The script's integers for one decision.
pub(crate) type Reply = SmallVec<[i64; 9]>;

/// One decision waiting to be sent.
pub(crate) struct Pending {
    /// The keys of its policies.
    pub(crate) keys: Vec<RedisKey>,
    /// Each policy's emission interval (microseconds) and burst.
    pub(crate) rule: SmallVec<[i64; 4]>,
    /// The cost.
    pub(crate) cost: i64,
    /// The hash slot of its keys (they share one), in cluster mode.
    pub(crate) slot: Option<u16>,
    /// When the caller stops waiting: it is answered with a timeout then,
    /// by the sender (one timer per script call, none per decision).
    pub(crate) deadline: Instant,
    /// The store's timeout, for the error.
    pub(crate) timeout: Duration,
    pub(crate) reply: oneshot::Sender<Result<Reply, StoreError>>,
}

impl Pending {
    /// Integers the script returns for this decision.
    pub(crate) fn reply_len(&self) -> usize {
        1 + self.keys.len()
    }
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    /// Sender tasks spawned and not finished.
    senders: usize,
    /// A sender was spawned and has not taken its first batch yet.
    starting: bool,
}

/// The queue of decisions, shared by every clone of a store.
#[derive(Default)]
pub(crate) struct Batcher {
    queue: Mutex<Queue>,
}

impl Batcher {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `pending`; `true` when the caller must start a sender (and
    /// then call [`SenderSlot::take`] from it until it returns `None`).
    pub(crate) fn push(&self, pending: Pending) -> bool {
        let mut queue = self.lock();
        queue.pending.push(pending);
        queue.claim_sender()
    }
}

impl Queue {
    /// Counts a new sender in if one may start and none is starting.
    fn claim_sender(&mut self) -> bool {
        if self.pending.is_empty() || self.starting || self.senders >= MAX_SENDERS {
            return false;
        }
        self.starting = true;
        self.senders += 1;
        true
    }
}

/// A sender task's place: takes batches, and when dropped (finished, or
/// dropped with its runtime) gives the place back.
pub(crate) struct SenderSlot {
    batcher: Arc<Batcher>,
    started: bool,
    /// Already counted out (by [`take`](Self::take) returning `None`).
    released: bool,
}

impl SenderSlot {
    /// The place [`Batcher::push`] claimed.
    pub(crate) fn new(batcher: Arc<Batcher>) -> Self {
        Self {
            batcher,
            started: false,
            released: false,
        }
    }

    /// The next batch and whether another sender should start (more waits
    /// than one batch takes); `None` when nothing waits: the sender ends.
    pub(crate) fn take(&mut self) -> Option<(Vec<Pending>, bool)> {
        let mut queue = self.batcher.lock();
        if !self.started {
            self.started = true;
            queue.starting = false;
        }
        // Decisions whose caller is gone are not sent; those past their
        // deadline are answered with a timeout.
        queue.pending.retain(|pending| !pending.reply.is_closed());
        let now = Instant::now();
        for late in queue
            .pending
            .extract_if(.., |pending| pending.deadline <= now)
        {
            let _ = late.reply.send(Err(StoreError::Timeout(late.timeout)));
        }
        let Some(first_slot) = queue.pending.first().map(|pending| pending.slot) else {
            // Counted out under the same lock a `push` takes: a decision
            // queued after this finds the place free and starts a sender.
            queue.senders -= 1;
            self.released = true;
            return None;
        };
        let batch: Vec<Pending> = if first_slot.is_none() {
            let n = queue.pending.len().min(MAX_BATCH);
            queue.pending.drain(..n).collect()
        } else {
            // Cluster: one script call touches one slot.
            let mut batch = Vec::new();
            let mut rest = Vec::with_capacity(queue.pending.len());
            for pending in queue.pending.drain(..) {
                if pending.slot == first_slot && batch.len() < MAX_BATCH {
                    batch.push(pending);
                } else {
                    rest.push(pending);
                }
            }
            queue.pending = rest;
            batch
        };
        let another = queue.claim_sender();
        Some((batch, another))
    }
}

impl Drop for SenderSlot {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let mut queue = self.batcher.lock();
        queue.senders -= 1;
        if !self.started {
            queue.starting = false;
        }
    }
}

#[cfg(test)]
mod tests;
