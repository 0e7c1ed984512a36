//! The in-memory store: moka caches bounded by total bytes.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http::HeaderName;
use moka::Expiry;
use moka::notification::RemovalCause;
use moka::sync::Cache;

/// The caches' hasher: keys are SHA-256 digests in hex, so a fast seeded
/// hash spreads them as well as SipHash at a fraction of the cost.
type Hasher = foldhash::fast::RandomState;
use strata_core::ConfigError;

use super::{Lookup, Store};
use crate::clock::now_ms;
use crate::{CacheKey, Entry, StoreError};

/// Default for [`MemoryStore::max_bytes`]: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Most variants kept per resource; storing one more drops the oldest.
pub const MAX_VARIANTS: usize = 64;

#[derive(Clone)]
struct Stored {
    entry: Arc<Entry>,
    ttl: Duration,
}

#[derive(Clone)]
struct Meta {
    vary: Arc<[HeaderName]>,
    variants: Arc<[Arc<str>]>,
    soft: Option<u64>,
    ttl: Duration,
}

struct Ttl;

impl Expiry<Arc<str>, Stored> for Ttl {
    fn expire_after_create(&self, _: &Arc<str>, value: &Stored, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _: &Arc<str>,
        value: &Stored,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl Expiry<Arc<str>, Meta> for Ttl {
    fn expire_after_create(&self, _: &Arc<str>, value: &Meta, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _: &Arc<str>,
        value: &Meta,
        _: Instant,
        left: Option<Duration>,
    ) -> Option<Duration> {
        Some(left.map_or(value.ttl, |left| left.max(value.ttl)))
    }
}

/// Called with the bytes of every entry evicted for space or expiry.
pub(crate) type EvictionHook = Arc<OnceLock<Box<dyn Fn(u64) + Send + Sync>>>;

struct Inner {
    entries: Cache<Arc<str>, Stored, Hasher>,
    meta: Cache<Arc<str>, Meta, Hasher>,
}

/// Responses in this process's memory, bounded by total bytes
/// ([`max_bytes`](Self::max_bytes), default 64 MiB, counting bodies and
/// headers); least-used entries are evicted first, and each expires when
/// it can no longer be served (its freshness plus its stale allowances
/// and the layer's `keep_stale`). A resource keeps at most 64 variants.
///
/// Tag purges scan the entries (linear in their number).
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
    max_bytes: u64,
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    evictions: EvictionHook,
}

impl MemoryStore {
    /// A store of at most 64 MiB.
    pub fn new() -> Self {
        Self::with_bytes(DEFAULT_MAX_BYTES)
    }

    fn with_bytes(max_bytes: u64) -> Self {
        let evictions: EvictionHook = Arc::default();
        let hook = Arc::clone(&evictions);
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &Arc<str>, v: &Stored| u32::try_from(v.entry.weight()).unwrap_or(u32::MAX))
            .expire_after(Ttl)
            .eviction_listener(move |_, v: Stored, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired)
                    && let Some(hook) = hook.get()
                {
                    hook(v.entry.weight() as u64);
                }
            })
            .build_with_hasher(Hasher::default());
        // A resource's record is small; allow one per 256 bytes of budget.
        let meta = Cache::builder()
            .max_capacity((max_bytes / 256).max(16))
            .expire_after(Ttl)
            .build_with_hasher(Hasher::default());
        Self {
            inner: Arc::new(Inner { entries, meta }),
            max_bytes,
            evictions,
        }
    }

    /// Most bytes of responses held (bodies plus headers, roughly). Default
    /// 64 MiB; at least 1 KiB. Starts a new, empty store.
    #[must_use]
    pub fn max_bytes(self, max_bytes: u64) -> Self {
        Self::with_bytes(max_bytes)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_bytes < 1024 {
            return Err(ConfigError::invalid(
                "MemoryStore::max_bytes",
                "must be at least 1024",
            ));
        }
        Ok(())
    }

    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn evictions(&self) -> &EvictionHook {
        &self.evictions
    }

    fn entry_key(key: &CacheKey, variant: &str) -> Arc<str> {
        Arc::from(crate::key::joined(key.digest(), variant))
    }

    fn digests_tagged(&self, tag: &str) -> HashSet<String> {
        self.inner
            .entries
            .iter()
            .filter(|(_, v)| v.entry.tags.iter().any(|t| t == tag))
            .filter_map(|(k, _)| k.split_once(':').map(|(d, _)| d.to_owned()))
            .collect()
    }

    /// Drops every entry (a memory tier that may have missed
    /// invalidations).
    pub(crate) fn clear(&self) {
        self.inner.entries.invalidate_all();
        self.inner.meta.invalidate_all();
    }

    pub(crate) fn purge_digest(&self, digest: &str) {
        if let Some(meta) = self.inner.meta.remove(digest) {
            for variant in meta.variants.iter() {
                self.inner
                    .entries
                    .invalidate(&*format!("{digest}:{variant}"));
            }
        }
        self.inner.entries.invalidate(&*format!("{digest}:"));
    }

    fn soft_digest(&self, digest: &str, at: u64) {
        let key: Arc<str> = Arc::from(digest);
        if let Some(mut meta) = self.inner.meta.get(&key) {
            meta.soft = Some(at);
            self.inner.meta.insert(key, meta);
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_bytes", &self.max_bytes)
            .field("entries", &self.inner.entries.entry_count())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// A lookup: in process, it never waits.
    fn read(&self, key: &CacheKey, variant: &str) -> Lookup {
        // Every put writes the resource's record with its variants: without
        // one (never stored, or its record evicted), no variant is served,
        // and an entry whose record is gone (which a purge of the key could
        // no longer find) is never answered from. Most lookups of
        // uncacheable resources end here, after one read.
        let Some(meta) = self.inner.meta.get(key.digest()) else {
            return Lookup {
                entry: None,
                vary: None,
                soft_purged_at: None,
                tier: super::Tier::Memory,
            };
        };
        // A resource stored under `Vary` keeps nothing under the empty
        // variant: the caller asks again with the request's variant.
        let varies = variant.is_empty() && !meta.vary.is_empty();
        let entry = if varies {
            None
        } else {
            self.inner
                .entries
                .get(crate::key::joined(key.digest(), variant).as_str())
                .map(|s| Entry::clone(&s.entry))
        };
        Lookup {
            entry,
            vary: Some(meta.vary.to_vec()),
            soft_purged_at: meta.soft,
            tier: super::Tier::Memory,
        }
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &CacheKey, variant: &str) -> Result<Lookup, StoreError> {
        Ok(self.read(key, variant))
    }

    fn get_now(&self, key: &CacheKey, variant: &str) -> Option<Result<Lookup, StoreError>> {
        Some(Ok(self.read(key, variant)))
    }

    async fn put(
        &self,
        key: &CacheKey,
        variant: &str,
        entry: Entry,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let vary: Arc<[HeaderName]> = entry.vary.clone().into();
        let variant: Arc<str> = Arc::from(variant);
        let mut dropped = None;
        self.inner
            .meta
            .entry(Arc::from(key.digest()))
            .and_upsert_with(|old| {
                let old = old.map(|e| e.into_value());
                let mut variants: Vec<Arc<str>> = old
                    .as_ref()
                    .map(|m| m.variants.to_vec())
                    .unwrap_or_default();
                if !variants.contains(&variant) {
                    variants.push(Arc::clone(&variant));
                    if variants.len() > MAX_VARIANTS {
                        dropped = Some(variants.remove(0));
                    }
                }
                Meta {
                    vary: Arc::clone(&vary),
                    variants: variants.into(),
                    // A response stored after a soft purge supersedes it.
                    soft: None,
                    ttl,
                }
            });
        if let Some(dropped) = dropped {
            self.inner
                .entries
                .invalidate(&*format!("{}:{dropped}", key.digest()));
        }
        self.inner.entries.insert(
            Self::entry_key(key, &variant),
            Stored {
                entry: Arc::new(entry),
                ttl,
            },
        );
        Ok(())
    }

    async fn purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.purge_digest(key.digest());
        Ok(())
    }

    async fn purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        let digests = self.digests_tagged(tag);
        for digest in &digests {
            self.purge_digest(digest);
        }
        Ok(digests.len() as u64)
    }

    async fn soft_purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.soft_digest(key.digest(), now_ms());
        Ok(())
    }

    async fn soft_purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        let now = now_ms();
        let digests = self.digests_tagged(tag);
        for digest in &digests {
            self.soft_digest(digest, now);
        }
        Ok(digests.len() as u64)
    }

    async fn count_tag(&self, tag: &str) -> Result<u64, StoreError> {
        Ok(self.digests_tagged(tag).len() as u64)
    }

    async fn count_variants(&self, key: &CacheKey) -> Result<u64, StoreError> {
        let Some(meta) = self.inner.meta.get(key.digest()) else {
            return Ok(0);
        };
        let live = meta
            .variants
            .iter()
            .filter(|v| {
                self.inner
                    .entries
                    .contains_key(&*format!("{}:{v}", key.digest()))
            })
            .count();
        Ok(live as u64)
    }

    async fn stats(&self, progress: &super::Progress<'_>) -> Result<super::StoreStats, StoreError> {
        self.inner.entries.run_pending_tasks();
        self.inner.meta.run_pending_tasks();
        let mut tags = HashSet::new();
        let mut entries = 0;
        for (_, stored) in self.inner.entries.iter() {
            entries += 1;
            tags.extend(stored.entry.tags.iter().cloned());
        }
        progress(entries);
        Ok(super::StoreStats {
            resources: Some(self.inner.meta.entry_count()),
            entries: Some(entries),
            tags: Some(tags.len() as u64),
            bytes: Some(self.inner.entries.weighted_size()),
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    use super::*;

    #[tokio::test]
    async fn an_entry_whose_resource_record_is_gone_is_never_served() {
        let store = MemoryStore::new();
        let key = CacheKey::new("https", "example.com", "/a");
        let entry = Entry::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(b"body"),
            Duration::from_secs(60),
            Vec::new(),
            Vec::new(),
        );
        store
            .put(&key, "", entry, Duration::from_secs(60))
            .await
            .expect("put");
        assert!(store.get(&key, "").await.expect("get").entry.is_some());
        // The record evicted on its own (it is bounded apart from the
        // entries): a purge of the key could no longer find the variant.
        store.inner.meta.invalidate(key.digest());
        let lookup = store.get(&key, "").await.expect("get");
        assert!(lookup.entry.is_none(), "not served without its record");
        assert!(lookup.vary.is_none());
    }
}
