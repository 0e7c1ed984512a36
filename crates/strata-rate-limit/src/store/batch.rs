//! Decisions pending at the same moment, sent to Redis as one script call.
//!
//! Every decision is queued. A sender takes what is queued (up to
//! [`MAX_BATCH`] decisions, all of one cluster slot) and runs the script
//! once for all of them; at most [`MAX_SENDERS`] such calls are in flight,
//! and a sender that finishes takes what queued meanwhile. The decision
//! whose arrival starts a sender is that sender for its first batch (see
//! `Lead` in the Redis store); further senders are tasks. Under light load
//! a batch holds one decision; under load, a script call carries many.
//!
//! Each decision carries its deadline: a sender answers it with a timeout
//! once that has passed, and bounds each call by the earliest deadline in
//! its batch, so no caller needs a timer of its own.
//!
//! The script runs a batch's decisions one after the other, each exactly
//! as it would run alone (all of its policies or none, nothing written on a
//! refusal), so batching changes how decisions travel, not what they are.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fred::types::Key as RedisKey;
use smallvec::SmallVec;
use tokio::sync::oneshot;
use tokio::time::Instant;

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
mod tests {
    use super::*;

    fn pending(slot: Option<u16>) -> (Pending, oneshot::Receiver<Result<Reply, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            keys: vec![RedisKey::from("k")],
            rule: SmallVec::from_slice(&[1000, 10]),
            cost: 1,
            slot,
            deadline: Instant::now() + Duration::from_secs(60),
            timeout: Duration::from_secs(60),
            reply,
        };
        (pending, answer)
    }

    fn counts(batcher: &Batcher) -> (usize, usize, bool) {
        let queue = batcher.lock();
        (queue.pending.len(), queue.senders, queue.starting)
    }

    #[test]
    fn one_sender_starts_and_takes_everything_queued() {
        let batcher = Arc::new(Batcher::default());
        let mut answers = Vec::new();
        let mut starts = 0;
        for _ in 0..10 {
            let (pending, answer) = pending(None);
            answers.push(answer);
            starts += usize::from(batcher.push(pending));
        }
        assert_eq!(starts, 1, "a starting sender takes what queues meanwhile");
        let mut slot = SenderSlot::new(Arc::clone(&batcher));
        let (batch, another) = slot.take().expect("a batch");
        assert_eq!(batch.len(), 10);
        assert!(!another);
        assert_eq!(counts(&batcher), (0, 1, false));
        assert!(slot.take().is_none());
        assert_eq!(counts(&batcher), (0, 0, false));
        drop(slot);
        assert_eq!(counts(&batcher), (0, 0, false), "counted out once");
    }

    #[test]
    fn batches_are_bounded_and_the_rest_starts_another_sender() {
        let batcher = Arc::new(Batcher::default());
        let mut answers = Vec::new();
        for _ in 0..MAX_BATCH + 5 {
            let (pending, answer) = pending(None);
            answers.push(answer);
            batcher.push(pending);
        }
        let mut slot = SenderSlot::new(Arc::clone(&batcher));
        let (batch, another) = slot.take().expect("a batch");
        assert_eq!(batch.len(), MAX_BATCH);
        assert!(another);
        assert_eq!(counts(&batcher), (5, 2, true));
        let mut second = SenderSlot::new(Arc::clone(&batcher));
        assert_eq!(second.take().map(|(batch, _)| batch.len()), Some(5));
        assert_eq!(counts(&batcher), (0, 2, false));
    }

    #[test]
    fn senders_are_bounded() {
        let batcher = Arc::new(Batcher::default());
        let mut slots = Vec::new();
        let mut answers = Vec::new();
        for _ in 0..MAX_SENDERS + 3 {
            let (pending, answer) = pending(None);
            answers.push(answer);
            if batcher.push(pending) {
                let mut slot = SenderSlot::new(Arc::clone(&batcher));
                assert!(slot.take().is_some());
                slots.push(slot);
            }
        }
        assert_eq!(slots.len(), MAX_SENDERS);
        // The rest waits for a sender to come back for more.
        assert_eq!(counts(&batcher), (3, MAX_SENDERS, false));
        assert_eq!(slots[0].take().map(|(batch, _)| batch.len()), Some(3));
    }

    #[test]
    fn abandoned_decisions_are_not_sent() {
        let batcher = Arc::new(Batcher::default());
        let (first, answer) = pending(None);
        let (second, kept) = pending(None);
        batcher.push(first);
        batcher.push(second);
        drop(answer);
        let mut slot = SenderSlot::new(Arc::clone(&batcher));
        assert_eq!(slot.take().map(|(batch, _)| batch.len()), Some(1));
        drop(kept);
    }

    #[test]
    fn decisions_past_their_deadline_are_answered_not_sent() {
        let batcher = Arc::new(Batcher::default());
        let (mut late, mut late_answer) = pending(None);
        late.deadline = Instant::now();
        late.timeout = Duration::from_millis(50);
        let (on_time, _answer) = pending(None);
        batcher.push(late);
        batcher.push(on_time);
        let mut slot = SenderSlot::new(Arc::clone(&batcher));
        assert_eq!(slot.take().map(|(batch, _)| batch.len()), Some(1));
        assert!(matches!(
            late_answer.try_recv(),
            Ok(Err(StoreError::Timeout(timeout))) if timeout == Duration::from_millis(50)
        ));
    }

    #[test]
    fn cluster_batches_hold_one_slot() {
        let batcher = Arc::new(Batcher::default());
        let mut answers = Vec::new();
        for slot in [Some(1), Some(2), Some(1), Some(3), Some(1)] {
            let (pending, answer) = pending(slot);
            answers.push(answer);
            batcher.push(pending);
        }
        let mut slot = SenderSlot::new(Arc::clone(&batcher));
        let (batch, _) = slot.take().expect("a batch");
        assert_eq!(batch.len(), 3);
        assert!(batch.iter().all(|pending| pending.slot == Some(1)));
        let (batch, _) = slot.take().expect("a batch");
        assert_eq!(batch.iter().map(|p| p.slot).collect::<Vec<_>>(), [Some(2)]);
    }

    #[test]
    fn a_sender_dropped_before_it_starts_gives_its_place_back() {
        let batcher = Arc::new(Batcher::default());
        let (first, _answer) = pending(None);
        assert!(batcher.push(first));
        drop(SenderSlot::new(Arc::clone(&batcher)));
        assert_eq!(counts(&batcher), (1, 0, false));
        let (second, _answer) = pending(None);
        assert!(batcher.push(second), "the next decision starts a sender");
    }
}
