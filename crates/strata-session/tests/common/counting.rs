//! A store wrapper that counts calls (and can stall its loads).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use strata_session::store::{Record, RecordId, SessionInfo, Store, StoreFuture, Update};

#[derive(Debug, Default)]
pub struct Calls {
    pub load: AtomicUsize,
    pub create: AtomicUsize,
    pub update: AtomicUsize,
    pub delete: AtomicUsize,
}

impl Calls {
    pub fn get(&self) -> [usize; 4] {
        [&self.load, &self.create, &self.update, &self.delete].map(|c| c.load(Ordering::SeqCst))
    }
    pub fn writes(&self) -> usize {
        let [_, create, update, delete] = self.get();
        create + update + delete
    }
}

/// Counts the calls made to the inner store; once `stalled` is set, its
/// loads never answer.
#[derive(Debug, Clone)]
pub struct Counting<S> {
    pub inner: S,
    pub calls: Arc<Calls>,
    pub stalled: Arc<std::sync::atomic::AtomicBool>,
}

impl<S> Counting<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            stalled: Arc::default(),
        }
    }
}

impl<S: Store> Store for Counting<S> {
    fn load<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, Option<Record>> {
        self.calls.load.fetch_add(1, Ordering::SeqCst);
        if self.stalled.load(Ordering::SeqCst) {
            return Box::pin(std::future::pending());
        }
        self.inner.load(id)
    }
    fn create<'a>(
        &'a self,
        id: &'a RecordId,
        record: &'a Record,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.calls.create.fetch_add(1, Ordering::SeqCst);
        self.inner.create(id, record, ttl)
    }
    fn update<'a>(
        &'a self,
        id: &'a RecordId,
        update: &'a Update,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.calls.update.fetch_add(1, Ordering::SeqCst);
        self.inner.update(id, update, ttl)
    }
    fn delete<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, bool> {
        self.calls.delete.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(id)
    }
    fn sessions<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        self.inner.sessions(user)
    }
    fn ping(&self) -> StoreFuture<'_, ()> {
        self.inner.ping()
    }
}
