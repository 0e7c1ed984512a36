//! [`MemoryStore`]: a bounded ring of compressed exchanges in this process.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_core::ConfigError;
use tokio::time::Instant;

use super::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, DEFAULT_TTL, Inserted, Store, StoreFuture, Usage, decode,
    id_floor,
};
use crate::query::{Page, Query};
use crate::record::{Exchange, Summary};

/// Exchanges in this process: a ring ordered by start time, bounded by a
/// byte budget ([`DEFAULT_MAX_BYTES`]), a count cap ([`DEFAULT_MAX_COUNT`])
/// and a TTL ([`DEFAULT_TTL`]), all enforced on every insert, oldest
/// evicted first. Bodies are kept deflate-compressed; a byte is counted
/// for every byte of blob and summary held.
///
/// An exchange expires a TTL after it started (wall clock) or a TTL after
/// it was inserted (tokio's clock, so paused time in tests), whichever
/// comes first.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use strata_recorder::MemoryStore;
///
/// let store = MemoryStore::new()
///     .max_bytes(16 * 1024 * 1024)
///     .max_count(2_000)
///     .ttl(Duration::from_secs(3600));
/// # let _ = store;
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    ring: Mutex<Ring>,
    max_bytes: u64,
    max_count: u64,
    ttl: Duration,
}

#[derive(Debug, Default)]
struct Ring {
    /// By id: by start time.
    entries: BTreeMap<String, Entry>,
    /// Ids in insertion order, which is expiry order (one TTL for all);
    /// an id removed otherwise stays until it reaches the front or the
    /// queue is compacted.
    inserted: VecDeque<(Instant, String)>,
    bytes: u64,
}

#[derive(Debug)]
struct Entry {
    summary: Summary,
    blob: Vec<u8>,
    expires: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default bounds.
    pub fn new() -> Self {
        Self {
            ring: Mutex::default(),
            max_bytes: DEFAULT_MAX_BYTES,
            max_count: DEFAULT_MAX_COUNT,
            ttl: DEFAULT_TTL,
        }
    }

    /// The byte budget; 0 is refused when the layer is built.
    /// Default [`DEFAULT_MAX_BYTES`].
    #[must_use]
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// The count cap; 0 is refused when the layer is built.
    /// Default [`DEFAULT_MAX_COUNT`].
    #[must_use]
    pub fn max_count(mut self, count: u64) -> Self {
        self.max_count = count;
        self
    }

    /// How long an exchange is kept; less than 1 ms (zero included) is
    /// refused when the layer is built. Default [`DEFAULT_TTL`].
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Every stored exchange's summary and whole exchange as the JSON they
    /// are stored as (blobs inflated), for tests that scan what is held.
    pub fn raw_contents(&self) -> Vec<Vec<u8>> {
        let ring = self.lock();
        ring.entries
            .values()
            .flat_map(|e| {
                [
                    serde_json::to_vec(&e.summary).unwrap_or_default(),
                    super::inflate(&e.blob).unwrap_or_else(|_| e.blob.clone()),
                ]
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `entry` is still inside the TTL.
    fn live(&self, entry: &Entry, now: Instant, floor: &str) -> bool {
        entry.expires > now && *entry.summary.id >= *floor
    }

    fn floor(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        id_floor(now.saturating_sub(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)))
    }

    fn insert_now(&self, summary: Summary, blob: Vec<u8>) -> Inserted {
        let now = Instant::now();
        let floor = self.floor();
        let size = summary.stored_bytes;
        let mut ring = self.lock();
        let mut evicted = 0;
        // Expired first (by start time, then by insertion time: both are
        // at the front of their order, so this costs what expired), then
        // the oldest until the new one fits.
        evicted += ring.expire(now, &floor);
        if size > self.max_bytes || *summary.id < *floor {
            return Inserted::new(false, evicted, ring.bytes, ring.entries.len() as u64);
        }
        while ring.entries.len() as u64 >= self.max_count || ring.bytes + size > self.max_bytes {
            let Some(oldest) = ring.entries.keys().next().cloned() else {
                break;
            };
            ring.remove(&oldest);
            evicted += 1;
        }
        ring.bytes += size;
        let id = summary.id.clone();
        let expires = now + self.ttl;
        ring.inserted.push_back((expires, id.clone()));
        if let Some(old) = ring.entries.insert(
            id,
            Entry {
                summary,
                blob,
                expires,
            },
        ) {
            ring.bytes -= old.summary.stored_bytes;
        }
        ring.compact();
        Inserted::new(true, evicted, ring.bytes, ring.entries.len() as u64)
    }

    fn query_now(&self, query: &Query) -> Page {
        let now = Instant::now();
        let floor = self.floor();
        let limit = query.page_size();
        let ring = self.lock();
        let low = id_floor(query.from_ms.unwrap_or(0));
        let high = match (&query.before, query.to_ms) {
            (Some(before), Some(to)) => before.clone().min(id_floor(to)),
            (Some(before), None) => before.clone(),
            (None, Some(to)) => id_floor(to),
            (None, None) => "g".to_owned(),
        };
        if low >= high {
            return Page::default();
        }
        let mut items = Vec::new();
        for entry in ring.entries.range(low..high).rev().map(|(_, e)| e) {
            if self.live(entry, now, &floor) && query.matches(&entry.summary) {
                items.push(entry.summary.clone());
                if items.len() == limit {
                    break;
                }
            }
        }
        let next = (items.len() == limit)
            .then(|| items.last().map(|s| s.id.clone()))
            .flatten();
        Page::new(items, next)
    }
}

impl Ring {
    fn remove(&mut self, id: &str) {
        if let Some(entry) = self.entries.remove(id) {
            self.bytes -= entry.summary.stored_bytes;
        }
    }

    /// Removes the exchanges that started before `floor` or whose time ran
    /// out by `now`; returns how many.
    fn expire(&mut self, now: Instant, floor: &str) -> u64 {
        let mut expired = 0;
        while let Some(entry) = self.entries.first_entry() {
            if entry.key().as_str() >= floor {
                break;
            }
            let entry = entry.remove();
            self.bytes -= entry.summary.stored_bytes;
            expired += 1;
        }
        while let Some((expires, _)) = self.inserted.front() {
            if *expires > now {
                break;
            }
            let Some((expires, id)) = self.inserted.pop_front() else {
                break;
            };
            // Only the insertion this queue item stands for.
            if self.entries.get(&id).is_some_and(|e| e.expires == expires) {
                self.remove(&id);
                expired += 1;
            }
        }
        expired
    }

    /// Drops the queue items of exchanges removed otherwise (evicted for
    /// room), once they outnumber the exchanges held: the queue stays
    /// within twice the count cap, at a cost spread over the inserts.
    fn compact(&mut self) {
        if self.inserted.len() > 2 * self.entries.len() + 16 {
            let entries = &self.entries;
            self.inserted
                .retain(|(expires, id)| entries.get(id).is_some_and(|e| e.expires == *expires));
        }
    }
}

impl Store for MemoryStore {
    fn check(&self) -> Result<(), ConfigError> {
        super::check_bounds(
            [
                "MemoryStore::max_bytes",
                "MemoryStore::max_count",
                "MemoryStore::ttl",
            ],
            self.max_bytes,
            self.max_count,
            self.ttl,
        )
    }

    fn insert(&self, summary: Summary, blob: Vec<u8>) -> StoreFuture<'_, Inserted> {
        let inserted = self.insert_now(summary, blob);
        Box::pin(async move { Ok(inserted) })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Exchange>> {
        let now = Instant::now();
        let floor = self.floor();
        let blob = {
            let ring = self.lock();
            ring.entries
                .get(id)
                .filter(|e| self.live(e, now, &floor))
                .map(|e| (e.blob.clone(), e.summary.stored_bytes))
        };
        Box::pin(async move {
            blob.map(|(blob, stored)| {
                decode(&blob).map(|mut exchange| {
                    exchange.summary.stored_bytes = stored;
                    exchange
                })
            })
            .transpose()
        })
    }

    fn query<'a>(&'a self, query: &'a Query) -> StoreFuture<'a, Page> {
        let page = self.query_now(query);
        Box::pin(async move { Ok(page) })
    }

    fn usage(&self) -> StoreFuture<'_, Usage> {
        let usage = {
            let ring = self.lock();
            Usage::new(ring.bytes, ring.entries.len() as u64)
        };
        Box::pin(async move { Ok(usage) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(n: u64) -> Summary {
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(0));
        serde_json::from_value(serde_json::json!({
            "id": format!("{now_us:016x}{n:016x}"),
            "started_ms": now_us / 1000,
            "method": "GET",
            "route": null,
            "uri": "/",
            "host": null,
            "status": 200,
            "ttfb_us": null,
            "duration_us": 1,
            "client_ip": null,
            "session": null,
            "user": null,
            "trace_id": null,
            "outcome": "complete",
            "stored_bytes": 10,
        }))
        .expect("a summary")
    }

    #[tokio::test(start_paused = true)]
    async fn the_insertion_queue_stays_within_twice_the_count_cap() {
        let store = MemoryStore::new().max_count(10);
        for n in 0..1_000 {
            assert!(store.insert_now(summary(n), vec![0; 4]).stored);
        }
        let ring = store.lock();
        assert_eq!(ring.entries.len(), 10);
        assert!(
            ring.inserted.len() <= 2 * 10 + 16 + 1,
            "{}",
            ring.inserted.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_exchange_stored_again_is_not_expired_by_its_first_insertion() {
        let store = MemoryStore::new().ttl(Duration::from_secs(60));
        let first = summary(1);
        assert!(store.insert_now(first.clone(), vec![1]).stored);
        tokio::time::advance(Duration::from_secs(40)).await;
        assert!(store.insert_now(first.clone(), vec![2]).stored);
        tokio::time::advance(Duration::from_secs(30)).await;
        // 70 s after the first insertion, 30 s after the second.
        store.insert_now(summary(2), vec![3]);
        let ring = store.lock();
        assert_eq!(
            ring.entries.get(&first.id).map(|e| e.blob.clone()),
            Some(vec![2])
        );
        assert_eq!(ring.bytes, 20);
    }
}
