//! [`MemoryStore`]: sessions of one process, in a bounded moka cache.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::sync::Cache;

use super::{Record, RecordId, SessionInfo, Store, StoreError, StoreFuture, Update};

/// Default for [`MemoryStore::with_capacity`] (`MemoryStore::new()`).
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// Sessions of this process only, in a moka cache bounded by count.
///
/// Each record expires after the time to live its last write set (the
/// idle timeout, never past the absolute end), and when the store is full
/// the least useful records go first (moka's TinyLFU). An update changes
/// the record in place under the record's own lock and never inserts, so
/// it never revives a record a concurrent delete (or expiry) removed. The per-user index is bounded by the same
/// count. Cloning the store shares it.
///
/// ```
/// use strata_session::MemoryStore;
///
/// let store = MemoryStore::with_capacity(10_000);
/// # let _ = store;
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    records: Cache<RecordId, Arc<Stored>>,
    users: Cache<String, Arc<Mutex<HashSet<RecordId>>>>,
    epoch: Instant,
}

/// One record. Updates change it in place under its lock and move its
/// deadline; moka reads the deadline on every access (`expire_after_read`),
/// so an update needs no moka write, and a record a delete removed is
/// marked so a write that raced it is refused.
struct Stored {
    /// When the record expires: nanoseconds after the store's epoch.
    deadline: AtomicU64,
    state: Mutex<Entry>,
}

struct Entry {
    record: Record,
    deleted: bool,
}

impl Stored {
    fn lock(&self) -> MutexGuard<'_, Entry> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct ExpireAtDeadline {
    epoch: Instant,
}

impl ExpireAtDeadline {
    fn remaining(&self, value: &Stored, now: Instant) -> Option<Duration> {
        let deadline = self.epoch + Duration::from_nanos(value.deadline.load(Ordering::Acquire));
        Some(deadline.saturating_duration_since(now))
    }
}

impl moka::Expiry<RecordId, Arc<Stored>> for ExpireAtDeadline {
    fn expire_after_create(
        &self,
        _: &RecordId,
        value: &Arc<Stored>,
        now: Instant,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }

    fn expire_after_read(
        &self,
        _: &RecordId,
        value: &Arc<Stored>,
        now: Instant,
        _: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }

    fn expire_after_update(
        &self,
        _: &RecordId,
        value: &Arc<Stored>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }
}

impl MemoryStore {
    /// A store for up to [`DEFAULT_MAX_SESSIONS`] sessions.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MAX_SESSIONS)
    }

    /// A store for up to `max_sessions` sessions.
    pub fn with_capacity(max_sessions: u64) -> Self {
        let epoch = Instant::now();
        Self {
            records: Cache::builder()
                .max_capacity(max_sessions)
                .expire_after(ExpireAtDeadline { epoch })
                .build(),
            users: Cache::builder().max_capacity(max_sessions).build(),
            epoch,
        }
    }

    /// The deadline `ttl` from now, as [`Stored::deadline`] keeps it.
    fn deadline(&self, ttl: Duration) -> u64 {
        let at = self.epoch.elapsed().saturating_add(ttl);
        u64::try_from(at.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records held now (expired ones may count until moka evicts them).
    pub fn len(&self) -> u64 {
        self.records.run_pending_tasks();
        self.records.entry_count()
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn index(&self, user: &str, id: RecordId) {
        let set = self.users.get_with_by_ref(user, Default::default);
        set.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
    }

    fn unindex(&self, user: &str, id: &RecordId) {
        if let Some(set) = self.users.get(user) {
            set.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(id);
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("records", &self.records.entry_count())
            .finish_non_exhaustive()
    }
}

fn apply(record: &mut Record, update: &Update) {
    if let Some(rotation) = update.rotate {
        record.previous = Some((record.secret, rotation.grace_until_ms));
        record.secret = rotation.secret;
    }
    if let Some(sign_in) = &update.sign_in {
        record.user = Some(sign_in.user.clone());
        record.user_agent.clone_from(&sign_in.user_agent);
        record.ip.clone_from(&sign_in.ip);
    }
    for (key, value) in &update.set {
        record.data.insert(key.clone(), value.clone());
    }
    for key in &update.remove {
        record.data.remove(key);
    }
    record.seen_ms = update.seen_ms;
}

impl Store for MemoryStore {
    fn load<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, Option<Record>> {
        let found = self.records.get(id).and_then(|stored| {
            let entry = stored.lock();
            (!entry.deleted).then(|| entry.record.clone())
        });
        Box::pin(std::future::ready(Ok(found)))
    }

    fn create<'a>(
        &'a self,
        id: &'a RecordId,
        record: &'a Record,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let result = self.records.entry(*id).and_compute_with(|existing| {
            if existing.is_some() {
                return Op::Nop;
            }
            Op::Put(Arc::new(Stored {
                deadline: AtomicU64::new(self.deadline(ttl)),
                state: Mutex::new(Entry {
                    record: record.clone(),
                    deleted: false,
                }),
            }))
        });
        let created = matches!(result, moka::ops::compute::CompResult::Inserted(_));
        if created && let Some(user) = &record.user {
            self.index(user, *id);
        }
        Box::pin(std::future::ready(Ok(created)))
    }

    fn update<'a>(
        &'a self,
        id: &'a RecordId,
        update: &'a Update,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let updated = self.records.get(id).is_some_and(|stored| {
            let mut entry = stored.lock();
            if entry.deleted
                || !entry.record.accepts(&update.secret, update.now_ms)
                || entry.record.expires_ms <= update.now_ms
            {
                return false;
            }
            apply(&mut entry.record, update);
            stored.deadline.store(self.deadline(ttl), Ordering::Release);
            true
        });
        if updated {
            // A read hands moka the new deadline.
            let _ = self.records.get(id);
        }
        if updated && let Some(sign_in) = &update.sign_in {
            self.index(&sign_in.user, *id);
        }
        Box::pin(std::future::ready(Ok(updated)))
    }

    fn delete<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, bool> {
        let result = self.records.entry(*id).and_compute_with(|existing| {
            if existing.is_some() {
                Op::Remove
            } else {
                Op::Nop
            }
        });
        let deleted = match result {
            moka::ops::compute::CompResult::Removed(removed) => {
                let mut entry = removed.value().lock();
                entry.deleted = true;
                if let Some(user) = &entry.record.user {
                    self.unindex(user, id);
                }
                true
            }
            _ => false,
        };
        Box::pin(std::future::ready(Ok(deleted)))
    }

    fn sessions<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        let mut live = Vec::new();
        if let Some(set) = self.users.get(user) {
            let mut ids = set.lock().unwrap_or_else(PoisonError::into_inner);
            ids.retain(|id| {
                let Some(stored) = self.records.get(id) else {
                    return false;
                };
                let entry = stored.lock();
                let live_here = !entry.deleted && entry.record.user.as_deref() == Some(user);
                if live_here {
                    live.push(entry.record.info(*id));
                }
                live_here
            });
        }
        Box::pin(std::future::ready(Ok(live)))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok::<(), StoreError>(())))
    }
}
