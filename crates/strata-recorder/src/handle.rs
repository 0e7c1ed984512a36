//! [`RecorderHandle`]: queries, exports and run-time flags.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::export;
use crate::query::{Page, Query};
use crate::record::Exchange;
use crate::shared::Shared;
use crate::store::{StoreError, Usage};
use crate::viewer::RecorderViewer;

/// Most exchanges one export holds: 1000.
pub const MAX_EXPORT: usize = 1000;

/// The recorder's counters since the layer was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecorderStats {
    /// Exchanges that ended (kept or not).
    pub recorded: u64,
    /// Exchanges the retention policy kept.
    pub kept: u64,
    /// Kept exchanges dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Kept exchanges dropped because one alone is larger than the store's budget.
    pub dropped_over_budget: u64,
    /// Store writes that failed or timed out (the exchange is lost).
    pub store_errors: u64,
    /// Exchanges the store evicted (bounds or TTL).
    pub evictions: u64,
    /// Bytes the store held after the last write.
    pub stored_bytes: u64,
    /// Exchanges recorded without their route template (the router had
    /// not matched when the recorder saw the request: it wraps the router
    /// from outside). Not-found answers are not counted.
    pub unrouted: u64,
}

/// Queries and exports what a [`RecorderLayer`](crate::RecorderLayer)
/// kept, flags sessions and users, and serves the viewer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RecorderHandle {
    shared: Arc<Shared>,
}

impl RecorderHandle {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// A page of summaries matching `query`, newest first.
    pub async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.bounded(self.shared.core.store.query(query)).await
    }

    /// One exchange by id.
    pub async fn get(&self, id: &str) -> Result<Option<Exchange>, StoreError> {
        self.bounded(self.shared.core.store.get(id)).await
    }

    /// What the store holds.
    pub async fn usage(&self) -> Result<Usage, StoreError> {
        self.bounded(self.shared.core.store.usage()).await
    }

    /// The exchanges matching `query`, newest first, at most [`MAX_EXPORT`]
    /// (the query's page size is the size of each store read).
    pub async fn exchanges(&self, query: &Query) -> Result<Vec<Exchange>, StoreError> {
        let mut query = query.clone();
        let mut out = Vec::new();
        loop {
            let page = self.query(&query).await?;
            for summary in page.items {
                if out.len() == MAX_EXPORT {
                    return Ok(out);
                }
                if let Some(exchange) = self.get(&summary.id).await? {
                    out.push(exchange);
                }
            }
            match page.next {
                Some(next) => query.before = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// The exchanges matching `query` as a HAR 1.2 document.
    pub async fn export_har(&self, query: &Query) -> Result<String, StoreError> {
        Ok(export::har(&self.exchanges(query).await?))
    }

    /// The exchanges matching `query` as JSON lines, one exchange a line.
    pub async fn export_jsonl(&self, query: &Query) -> Result<String, StoreError> {
        Ok(export::jsonl(&self.exchanges(query).await?))
    }

    /// Keeps every exchange of this session from now on.
    pub fn flag_session(&self, session: &str) {
        self.shared.flags.set(false, session, true);
    }

    /// Stops keeping every exchange of this session.
    pub fn unflag_session(&self, session: &str) {
        self.shared.flags.set(false, session, false);
    }

    /// Keeps every exchange of this user from now on.
    pub fn flag_user(&self, user: &str) {
        self.shared.flags.set(true, user, true);
    }

    /// Stops keeping every exchange of this user.
    pub fn unflag_user(&self, user: &str) {
        self.shared.flags.set(true, user, false);
    }

    /// The flagged sessions and users, sorted.
    pub fn flagged(&self) -> (Vec<String>, Vec<String>) {
        (self.shared.flags.list(false), self.shared.flags.list(true))
    }

    /// Waits until every exchange kept before this call has been written to
    /// the store (or failed): for tests and graceful shutdown.
    pub async fn flush(&self) {
        self.shared.flush().await;
    }

    /// The counters.
    pub fn stats(&self) -> RecorderStats {
        let s = &self.shared.core.stats;
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        RecorderStats {
            recorded: n(&s.recorded),
            kept: n(&s.kept),
            dropped_queue_full: n(&s.dropped_queue_full),
            dropped_over_budget: n(&s.dropped_over_budget),
            store_errors: n(&s.store_errors),
            evictions: n(&s.evictions),
            stored_bytes: n(&s.stored_bytes),
            unrouted: n(&s.unrouted),
        }
    }

    /// The viewer: an HTML page and its JSON API, as a tower service.
    pub fn viewer(&self) -> RecorderViewer {
        RecorderViewer::new(self.clone())
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.shared.core.store_timeout, call)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }
}
