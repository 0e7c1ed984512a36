//! [`TieredStore`]: a memory tier in front of a shared store, kept
//! coherent across instances by the shared store's broadcast channel.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use strata_core::ConfigError;
use tokio::sync::broadcast::error::RecvError;

use super::{Lease, Lookup, MemoryStore, Notice, Store, Tier};
use crate::{CacheKey, Entry, StoreError};

/// Default for [`TieredStore::memory_ttl`]: 30 s.
pub const DEFAULT_MEMORY_TTL: Duration = Duration::from_secs(30);
/// Default for [`TieredStore::max_value_bytes`]: 256 KiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 256 * 1024;

/// A [`MemoryStore`] tier in front of a shared store (a
/// [`RedisStore`](crate::RedisStore)): reads are served from memory when
/// they can, every write and purge goes to the shared store, and every
/// overwrite or purge is broadcast (Redis pub/sub on
/// `<prefix>invalidate`) so the memory tier of every instance drops its
/// copy.
///
/// Works for the response cache ([`CacheLayer::builder`](crate::CacheLayer::builder))
/// as for data ([`DataCache::builder`](crate::DataCache::builder)).
///
/// # Staleness
///
/// An entry stays in memory at most [`memory_ttl`](Self::memory_ttl)
/// (default 30 s), whatever its TTL in the shared store. While the
/// invalidation channel works, another instance's write is seen as soon as
/// its message arrives (a read that raced with a message does not refill
/// the tier). When it is down (the subscriber reconnecting, a publish
/// that failed), an instance may serve a value overwritten elsewhere for
/// at most `memory_ttl`; when the subscriber's subscription becomes active
/// again, the memory tier is flushed. Until the first subscription is
/// active (a new instance, or Redis down at start), the memory tier is not
/// filled and every read goes to the shared store.
///
/// ```no_run
/// # #[cfg(feature = "redis")]
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// use strata_cache::{DataCache, RedisStore, TieredStore};
/// use strata_core::redis::RedisPoolBuilder;
///
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let store = TieredStore::new(RedisStore::new(pool).prefix("myapp:data:"));
/// let cache = DataCache::builder(store).build()?;
/// # let _ = cache;
/// # Ok(())
/// # }
/// ```
pub struct TieredStore<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    memory: MemoryStore,
    shared: S,
    memory_ttl: Duration,
    max_value_bytes: usize,
    /// Tells this instance's own messages apart.
    id: String,
    /// Bumped by every invalidation received: a shared read that started
    /// before one does not fill the memory tier.
    epoch: Arc<AtomicU64>,
    /// Whether the memory tier is filled: once invalidations are heard
    /// (at once for a store that is not shared).
    listening: Arc<AtomicBool>,
    listener: tokio::sync::OnceCell<()>,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::DataCacheMetrics>,
}

impl<S> Clone for TieredStore<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: Store> TieredStore<S> {
    /// A 64 MiB memory tier ([`MemoryStore::new`]) in front of `shared`.
    pub fn new(shared: S) -> Self {
        Self {
            inner: Arc::new(Inner::fresh(
                MemoryStore::new(),
                shared,
                DEFAULT_MEMORY_TTL,
                DEFAULT_MAX_VALUE_BYTES,
            )),
        }
    }
}

impl<S> Inner<S> {
    fn fresh(memory: MemoryStore, shared: S, memory_ttl: Duration, max_value_bytes: usize) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let id = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            memory,
            shared,
            memory_ttl,
            max_value_bytes,
            id: format!("{id:016x}"),
            epoch: Arc::default(),
            listening: Arc::default(),
            listener: tokio::sync::OnceCell::new(),
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }
}

impl<S: Store + Clone> TieredStore<S> {
    /// The store with one setting changed: a new instance (its own memory
    /// tier listener), also when this one was cloned.
    fn edit(self, f: impl FnOnce(&mut Inner<S>)) -> Self {
        let inner = &self.inner;
        let mut fresh = Inner::fresh(
            inner.memory.clone(),
            inner.shared.clone(),
            inner.memory_ttl,
            inner.max_value_bytes,
        );
        #[cfg(feature = "prometheus")]
        {
            fresh.metrics = inner.metrics.clone();
        }
        f(&mut fresh);
        Self {
            inner: Arc::new(fresh),
        }
    }

    /// The memory tier, bounded by its [`MemoryStore::max_bytes`]. Default
    /// [`MemoryStore::new`] (64 MiB).
    #[must_use]
    pub fn memory(self, memory: MemoryStore) -> Self {
        self.edit(|i| i.memory = memory)
    }

    /// Longest an entry stays in the memory tier: the staleness bound when
    /// invalidations are lost. Default 30 s; between 1 ms and a day.
    #[must_use]
    pub fn memory_ttl(self, ttl: Duration) -> Self {
        self.edit(|i| i.memory_ttl = ttl)
    }

    /// Entries larger than this (roughly, in bytes) live only in the
    /// shared store. Default 256 KiB; at least 1.
    #[must_use]
    pub fn max_value_bytes(self, bytes: usize) -> Self {
        self.edit(|i| i.max_value_bytes = bytes)
    }

    /// Count invalidations sent and received in `metrics`.
    #[cfg(feature = "prometheus")]
    #[must_use]
    pub fn metrics(self, metrics: crate::DataCacheMetrics) -> Self {
        self.edit(|i| i.metrics = Some(metrics))
    }
}

impl<S: Store> TieredStore<S> {
    /// The shared store behind the memory tier.
    pub fn shared(&self) -> &S {
        &self.inner.shared
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let ttl = self.inner.memory_ttl;
        if ttl < Duration::from_millis(1) || ttl > Duration::from_secs(86_400) {
            return Err(ConfigError::invalid(
                "TieredStore::memory_ttl",
                "must be between 1 ms and a day",
            ));
        }
        if self.inner.max_value_bytes == 0 {
            return Err(ConfigError::invalid(
                "TieredStore::max_value_bytes",
                "must be at least 1",
            ));
        }
        self.inner.memory.validate()?;
        super::validate(&self.inner.shared)
    }

    /// Starts forwarding the shared store's invalidations to the memory
    /// tier, once.
    async fn start_listener(&self) {
        let inner = &self.inner;
        inner
            .listener
            .get_or_init(|| async {
                let Some(mut notices) = inner.shared.listen().await else {
                    inner.listening.store(true, Ordering::SeqCst);
                    return;
                };
                let memory = inner.memory.clone();
                let epoch = Arc::clone(&inner.epoch);
                let listening = Arc::clone(&inner.listening);
                let own = format!("{} ", inner.id);
                #[cfg(feature = "prometheus")]
                let metrics = inner.metrics.clone();
                tokio::spawn(async move {
                    loop {
                        let notice = match notices.recv().await {
                            Ok(notice) => notice,
                            Err(RecvError::Lagged(_)) => Notice::Resync,
                            Err(RecvError::Closed) => break,
                        };
                        epoch.fetch_add(1, Ordering::SeqCst);
                        match notice {
                            Notice::Message(text) if !text.starts_with(&own) => {
                                #[cfg(feature = "prometheus")]
                                if let Some(m) = &metrics {
                                    m.invalidation("received");
                                }
                                apply(&memory, &text).await;
                            }
                            Notice::Message(_) => {}
                            _ => {
                                memory.clear();
                                listening.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                });
            })
            .await;
    }

    /// Tells the other instances to drop `what` (`k <digest>` or
    /// `t <tag>`) from their memory tier. A lost message is bounded by
    /// `memory_ttl`; it is counted and logged, not returned.
    async fn announce(&self, what: String) {
        let message = format!("{} {what}", self.inner.id);
        match self.inner.shared.broadcast(&message).await {
            Ok(()) =>
            {
                #[cfg(feature = "prometheus")]
                if let Some(m) = &self.inner.metrics {
                    m.invalidation("sent");
                }
            }
            Err(error) => {
                #[cfg(feature = "prometheus")]
                if let Some(m) = &self.inner.metrics {
                    m.invalidation("failed");
                }
                tracing::debug!(%error, "cache store: invalidation not sent; other instances rely on memory_ttl");
            }
        }
    }

    fn keep_in_memory(&self, entry: &Entry) -> bool {
        entry.weight() <= self.inner.max_value_bytes && self.inner.listening.load(Ordering::SeqCst)
    }
}

/// Applies another instance's message to the memory tier.
async fn apply(memory: &MemoryStore, text: &str) {
    let mut parts = text.splitn(3, ' ');
    let (_, kind, arg) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    match kind {
        Some("k") => memory.purge_digest(arg),
        Some("t") => {
            let _ = Store::purge_tag(memory, arg).await;
        }
        _ => memory.clear(),
    }
}

impl<S: fmt::Debug> fmt::Debug for TieredStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredStore")
            .field("memory", &self.inner.memory)
            .field("shared", &self.inner.shared)
            .field("memory_ttl", &self.inner.memory_ttl)
            .field("max_value_bytes", &self.inner.max_value_bytes)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Store for TieredStore<S> {
    async fn get(&self, key: &CacheKey, variant: &str) -> Result<Lookup, StoreError> {
        self.start_listener().await;
        let near = Store::get(&self.inner.memory, key, variant).await?;
        if near.entry.is_some() {
            return Ok(near.tier(Tier::Memory));
        }
        let epoch = self.inner.epoch.load(Ordering::SeqCst);
        let far = self.inner.shared.get(key, variant).await?;
        if let Some(entry) = &far.entry
            && far.soft_purged_at.is_none()
            && self.keep_in_memory(entry)
            && self.inner.epoch.load(Ordering::SeqCst) == epoch
        {
            let memory = &self.inner.memory;
            Store::put(memory, key, variant, entry.clone(), self.inner.memory_ttl).await?;
        }
        Ok(far.tier(Tier::Shared))
    }

    async fn put(
        &self,
        key: &CacheKey,
        variant: &str,
        entry: Entry,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.start_listener().await;
        let keep = self.keep_in_memory(&entry).then(|| entry.clone());
        let stored = self.inner.shared.put(key, variant, entry, ttl).await;
        let memory = &self.inner.memory;
        match keep {
            // Also when the shared store failed: this instance keeps
            // serving what it loaded, for at most `memory_ttl`.
            Some(entry) => {
                let ttl = ttl.min(self.inner.memory_ttl);
                Store::put(memory, key, variant, entry, ttl).await?;
            }
            None => memory.purge_digest(key.digest()),
        }
        stored?;
        self.announce(format!("k {}", key.digest())).await;
        Ok(())
    }

    async fn purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.inner.memory.purge_digest(key.digest());
        self.inner.shared.purge(key).await?;
        self.announce(format!("k {}", key.digest())).await;
        Ok(())
    }

    async fn purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        Store::purge_tag(&self.inner.memory, tag).await?;
        let purged = self.inner.shared.purge_tag(tag).await?;
        self.announce(format!("t {tag}")).await;
        Ok(purged)
    }

    async fn soft_purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        // The memory copy goes: the next read sees the shared mark.
        self.inner.memory.purge_digest(key.digest());
        self.inner.shared.soft_purge(key).await?;
        self.announce(format!("k {}", key.digest())).await;
        Ok(())
    }

    async fn soft_purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        Store::purge_tag(&self.inner.memory, tag).await?;
        let marked = self.inner.shared.soft_purge_tag(tag).await?;
        self.announce(format!("t {tag}")).await;
        Ok(marked)
    }

    async fn count_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.inner.shared.count_tag(tag).await
    }

    async fn count_variants(&self, key: &CacheKey) -> Result<u64, StoreError> {
        self.inner.shared.count_variants(key).await
    }

    async fn purge_tag_progress(
        &self,
        tag: &str,
        soft: bool,
        progress: &crate::Progress<'_>,
    ) -> Result<u64, StoreError> {
        Store::purge_tag(&self.inner.memory, tag).await?;
        let done = self
            .inner
            .shared
            .purge_tag_progress(tag, soft, progress)
            .await?;
        self.announce(format!("t {tag}")).await;
        Ok(done)
    }

    async fn stats(&self, progress: &crate::Progress<'_>) -> Result<crate::StoreStats, StoreError> {
        self.inner.shared.stats(progress).await
    }

    async fn lease(
        &self,
        key: &CacheKey,
        variant: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.inner.shared.lease(key, variant, ttl).await
    }

    async fn release(&self, key: &CacheKey, variant: &str, token: u64) -> Result<(), StoreError> {
        self.inner.shared.release(key, variant, token).await
    }

    async fn wait(&self, key: &CacheKey, variant: &str, max: Duration) {
        self.inner.shared.wait(key, variant, max).await;
    }

    async fn broadcast(&self, message: &str) -> Result<(), StoreError> {
        self.inner.shared.broadcast(message).await
    }

    async fn listen(&self) -> Option<tokio::sync::broadcast::Receiver<Notice>> {
        self.inner.shared.listen().await
    }
}
