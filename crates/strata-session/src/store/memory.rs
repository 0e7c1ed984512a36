//! [`MemoryStore`]: sessions of one process, in a bounded moka cache.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
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
/// the least useful records go first (moka's TinyLFU). A write is applied
/// under moka's per-key lock, so an update never revives a record a
/// concurrent delete removed. The per-user index is bounded by the same
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
}

struct Stored {
    ttl: Duration,
    record: Record,
}

struct ExpireAfterWrite;

impl moka::Expiry<RecordId, Arc<Stored>> for ExpireAfterWrite {
    fn expire_after_create(
        &self,
        _: &RecordId,
        value: &Arc<Stored>,
        _: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &RecordId,
        value: &Arc<Stored>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl MemoryStore {
    /// A store for up to [`DEFAULT_MAX_SESSIONS`] sessions.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MAX_SESSIONS)
    }

    /// A store for up to `max_sessions` sessions.
    pub fn with_capacity(max_sessions: u64) -> Self {
        Self {
            records: Cache::builder()
                .max_capacity(max_sessions)
                .expire_after(ExpireAfterWrite)
                .build(),
            users: Cache::builder().max_capacity(max_sessions).build(),
        }
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
        let found = self.records.get(id).map(|stored| stored.record.clone());
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
                ttl,
                record: record.clone(),
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
        let result = self.records.entry(*id).and_compute_with(|existing| {
            let Some(existing) = existing else {
                return Op::Nop;
            };
            let current = &existing.value().record;
            if !current.accepts(&update.secret, update.now_ms)
                || current.expires_ms <= update.now_ms
            {
                return Op::Nop;
            }
            let mut record = current.clone();
            apply(&mut record, update);
            Op::Put(Arc::new(Stored { ttl, record }))
        });
        let updated = matches!(result, moka::ops::compute::CompResult::ReplacedWith(_));
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
            moka::ops::compute::CompResult::Removed(entry) => {
                if let Some(user) = &entry.value().record.user {
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
            ids.retain(|id| match self.records.get(id) {
                Some(stored) if stored.record.user.as_deref() == Some(user) => {
                    live.push(stored.record.info(*id));
                    true
                }
                _ => false,
            });
        }
        Box::pin(std::future::ready(Ok(live)))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok::<(), StoreError>(())))
    }
}
