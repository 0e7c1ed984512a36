//! The batch queue, without Redis.

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
