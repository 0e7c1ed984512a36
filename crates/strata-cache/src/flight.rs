//! In-process coalescing: one origin request per variant at a time, the
//! others woken (never polled) when it is stored or found uncacheable;
//! and "hit-for-miss", variants recently found uncacheable, which skip
//! coalescing so their requests are not serialised.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use moka::sync::Cache;
use tokio::sync::watch;

#[derive(Debug)]
pub(crate) struct Flights {
    map: Arc<DashMap<String, watch::Receiver<()>>>,
    /// Variant → until when (ms, the cache clock) it skips coalescing.
    /// Keys are SHA-256 digests in hex (and a variant): a fast seeded
    /// hash spreads them as well as SipHash.
    hit_for_miss: Cache<String, u64, foldhash::fast::RandomState>,
    hit_for_miss_ttl: Duration,
}

/// The caller fetches; dropping it wakes every waiter.
#[derive(Debug)]
pub(crate) struct Leader {
    map: Arc<DashMap<String, watch::Receiver<()>>>,
    key: String,
    tx: watch::Sender<()>,
}

impl Drop for Leader {
    fn drop(&mut self) {
        let tx = &self.tx;
        self.map
            .remove_if(&self.key, |_, rx| rx.same_channel(&tx.subscribe()));
        // Dropping the sender (right after) wakes every receiver.
    }
}

#[derive(Debug)]
pub(crate) enum Join {
    Leader(Leader),
    Waiter(watch::Receiver<()>),
}

impl Flights {
    pub(crate) fn new(hit_for_miss_ttl: Duration) -> Self {
        Self {
            map: Arc::default(),
            hit_for_miss: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(hit_for_miss_ttl.max(Duration::from_millis(1)))
                .build_with_hasher(foldhash::fast::RandomState::default()),
            hit_for_miss_ttl,
        }
    }

    pub(crate) fn join(&self, key: String) -> Join {
        match self.map.entry(key) {
            MapEntry::Occupied(e) => Join::Waiter(e.get().clone()),
            MapEntry::Vacant(v) => {
                let (tx, rx) = watch::channel(());
                let key = v.key().clone();
                v.insert(rx);
                Join::Leader(Leader {
                    map: Arc::clone(&self.map),
                    key,
                    tx,
                })
            }
        }
    }

    /// Until when (ms, the cache clock) `key` skips coalescing, at `now`
    /// (ms, the cache clock); `None` when it does not.
    pub(crate) fn hit_for_miss_until(&self, key: &str, now: u64) -> Option<u64> {
        self.hit_for_miss.get(key).filter(|until| *until > now)
    }

    #[cfg(test)]
    pub(crate) fn is_hit_for_miss(&self, key: &str) -> bool {
        self.hit_for_miss_until(key, crate::clock::now_ms())
            .is_some()
    }

    /// Marks `key` as hit-for-miss for the configured time. `current` is the
    /// mark the request saw when it started: one with more than half its
    /// time left is kept as it is, so a stream of uncacheable responses
    /// writes the mark once per half-period instead of on every response.
    /// `now`: the cache clock (ms).
    pub(crate) fn mark_hit_for_miss(&self, key: &str, current: Option<u64>, now: u64) {
        if self.hit_for_miss_ttl.is_zero() {
            return;
        }
        let ttl = u64::try_from(self.hit_for_miss_ttl.as_millis()).unwrap_or(u64::MAX);
        if current.is_some_and(|until| until.saturating_sub(now) > ttl / 2) {
            return;
        }
        self.hit_for_miss
            .insert(key.to_owned(), now.saturating_add(ttl));
    }

    pub(crate) fn clear_hit_for_miss(&self, key: &str) {
        self.hit_for_miss.invalidate(key);
    }
}

/// Waits until the leader is done (or gone), at most `max`.
pub(crate) async fn wait(mut rx: watch::Receiver<()>, max: Duration) {
    let _ = tokio::time::timeout(max, rx.changed()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;

    #[tokio::test(start_paused = true)]
    async fn one_leader_and_waiters_woken_when_it_is_done() {
        let flights = Flights::new(Duration::from_secs(10));
        let Join::Leader(leader) = flights.join("k".into()) else {
            panic!("first is the leader")
        };
        let Join::Waiter(rx) = flights.join("k".into()) else {
            panic!("second waits")
        };
        let waiter = tokio::spawn(wait(rx, Duration::from_secs(3600)));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(leader);
        waiter.await.expect("woken");
        assert!(
            matches!(flights.join("k".into()), Join::Leader(_)),
            "the flight is over"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn hit_for_miss_expires_on_the_cache_clock() {
        let flights = Flights::new(Duration::from_secs(10));
        flights.mark_hit_for_miss("k", None, now_ms());
        assert!(flights.is_hit_for_miss("k"));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!flights.is_hit_for_miss("k"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_mark_is_renewed_only_past_half_its_time() {
        let flights = Flights::new(Duration::from_secs(10));
        flights.mark_hit_for_miss("k", None, now_ms());
        let first = flights.hit_for_miss_until("k", now_ms()).expect("marked");
        tokio::time::advance(Duration::from_secs(4)).await;
        flights.mark_hit_for_miss("k", Some(first), now_ms());
        assert_eq!(
            flights.hit_for_miss_until("k", now_ms()),
            Some(first),
            "kept"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        flights.mark_hit_for_miss("k", Some(first), now_ms());
        let renewed = flights
            .hit_for_miss_until("k", now_ms())
            .expect("still marked");
        assert_eq!(renewed, first + 6_000, "renewed for a full period from now");
        // An uncacheable stream keeps the variant marked without a gap.
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(flights.is_hit_for_miss("k"));
    }
}
