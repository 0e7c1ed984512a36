//! Where responses live: [`MemoryStore`] on one instance,
//! [`RedisStore`](crate::RedisStore) (feature `redis`) shared by many.

pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod tiered;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http::HeaderName;
use tokio::sync::broadcast;

use crate::{CacheKey, Entry, StoreError};

pub use self::memory::MemoryStore;
pub use self::tiered::TieredStore;

/// Checks the settings of the stores of this crate (others have none).
pub(crate) fn validate<S: Store>(store: &S) -> Result<(), strata_core::ConfigError> {
    let any = store as &dyn std::any::Any;
    if let Some(memory) = any.downcast_ref::<MemoryStore>() {
        return memory.validate();
    }
    if let Some(tiered) = any.downcast_ref::<TieredStore<MemoryStore>>() {
        return tiered.validate();
    }
    #[cfg(feature = "redis")]
    if let Some(redis) = any.downcast_ref::<crate::RedisStore>() {
        return redis.validate();
    }
    #[cfg(feature = "redis")]
    if let Some(tiered) = any.downcast_ref::<TieredStore<crate::RedisStore>>() {
        return tiered.validate();
    }
    Ok(())
}

/// What a store holds for one variant of a resource.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Lookup {
    /// The variant asked for, when stored.
    pub entry: Option<Entry>,
    /// The `Vary` field names of the resource's last stored response, when
    /// any response of it is stored: the caller picks its variant with
    /// them.
    pub vary: Option<Vec<HeaderName>>,
    /// When the resource was last soft-purged (ms since the Unix epoch):
    /// entries stored before are stale.
    pub soft_purged_at: Option<u64>,
    /// The tier that answered (for a miss, the last tier asked).
    pub tier: Tier,
}

/// Which tier of a store answered a lookup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tier {
    /// This process's memory ([`MemoryStore`], or the memory tier of a
    /// [`TieredStore`](crate::TieredStore)).
    #[default]
    Memory,
    /// A store shared between instances (Redis).
    Shared,
}

impl Tier {
    /// `memory` or `shared` (the metrics' label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Shared => "shared",
        }
    }
}

/// What a store's broadcast channel delivers to
/// [`Store::listen`]ers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A message some instance (this one included) sent with
    /// [`Store::broadcast`].
    Message(std::sync::Arc<str>),
    /// The channel was (re)connected, or this listener fell behind:
    /// messages may have been lost, so whatever they would have
    /// invalidated must be dropped.
    Resync,
}

impl Lookup {
    /// A lookup result.
    pub fn new(
        entry: Option<Entry>,
        vary: Option<Vec<HeaderName>>,
        soft_purged_at: Option<u64>,
    ) -> Self {
        Self {
            entry,
            vary,
            soft_purged_at,
            tier: Tier::Memory,
        }
    }

    /// The same lookup, answered by `tier`.
    #[must_use]
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }
}

/// The outcome of asking for the right to fill a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lease {
    /// This caller fills it; release with the token.
    Acquired(u64),
    /// Another instance is filling it.
    Held,
    /// The store is not shared between instances: no lease is needed (the
    /// layer coalesces in process).
    Unshared,
}

/// Reports how far a long store operation has got: items done so far
/// (resources for a tag purge, keys scanned for [`Store::stats`]).
pub type Progress<'a> = dyn Fn(u64) + Send + Sync + 'a;

/// What a store holds, as [`Store::stats`] counts it; `None` where the
/// store cannot count it cheaply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StoreStats {
    /// Resources (URLs) with at least one stored response.
    pub resources: Option<u64>,
    /// Stored responses (variants of every resource).
    pub entries: Option<u64>,
    /// Tag indexes.
    pub tags: Option<u64>,
    /// Bytes of the stored responses.
    pub bytes: Option<u64>,
}

/// A response-cache backend.
///
/// Both implementations ([`MemoryStore`], [`RedisStore`](crate::RedisStore))
/// pass one conformance suite. Keys are [`CacheKey`]s (every variant of one
/// URL), variants the strings the layer derives from the request's values
/// of the resource's `Vary` fields (`""` without `Vary`). Every call is
/// bounded by the layer's store timeout; an error sends the request to the
/// origin (bypass).
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// Reads `variant` of `key`, with the resource's `Vary` names and
    /// soft-purge mark.
    fn get(
        &self,
        key: &CacheKey,
        variant: &str,
    ) -> impl Future<Output = Result<Lookup, StoreError>> + Send;

    /// [`get`](Store::get), answered at once when the store can without
    /// waiting (a store in process): the layer then builds no future and
    /// sets no timer for the read. `None` (the default) sends the layer to
    /// [`get`](Store::get).
    fn get_now(&self, key: &CacheKey, variant: &str) -> Option<Result<Lookup, StoreError>> {
        let _ = (key, variant);
        None
    }

    /// Stores `entry` as `variant` of `key` for `ttl`, records its `Vary`
    /// names as the resource's and indexes it under its tags.
    fn put(
        &self,
        key: &CacheKey,
        variant: &str,
        entry: Entry,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes every variant of `key`.
    fn purge(&self, key: &CacheKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes every resource tagged `tag`; returns how many were tagged.
    fn purge_tag(&self, tag: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Marks every variant of `key` stale as of now (kept for
    /// revalidation and `stale-while-revalidate`).
    fn soft_purge(&self, key: &CacheKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks every resource tagged `tag` stale; returns how many were
    /// tagged.
    fn soft_purge_tag(&self, tag: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// How many resources a purge of `tag` would touch, changing nothing.
    /// The default answers [`StoreError::Unsupported`].
    fn count_tag(&self, tag: &str) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = tag;
        async { Err(StoreError::Unsupported("count_tag")) }
    }

    /// How many variants of `key` are stored (0: nothing to purge),
    /// changing nothing. The default answers [`StoreError::Unsupported`].
    fn count_variants(
        &self,
        key: &CacheKey,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = key;
        async { Err(StoreError::Unsupported("count_variants")) }
    }

    /// [`purge_tag`](Self::purge_tag) (or, `soft`,
    /// [`soft_purge_tag`](Self::soft_purge_tag)) calling `progress` with the
    /// resources done so far as it goes. The default makes the one call and
    /// reports once.
    fn purge_tag_progress(
        &self,
        tag: &str,
        soft: bool,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async move {
            let n = if soft {
                self.soft_purge_tag(tag).await?
            } else {
                self.purge_tag(tag).await?
            };
            progress(n);
            Ok(n)
        }
    }

    /// Counts what the store holds (see [`StoreStats`]), calling `progress`
    /// with the items visited so far. The default answers
    /// [`StoreError::Unsupported`].
    fn stats(
        &self,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<StoreStats, StoreError>> + Send {
        let _ = progress;
        async { Err(StoreError::Unsupported("stats")) }
    }

    /// Asks for the right to fill `variant` of `key` for up to `ttl`, so
    /// concurrent misses on several instances make one origin request. A
    /// store that is not shared answers [`Lease::Unshared`] (the default).
    fn lease(
        &self,
        key: &CacheKey,
        variant: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Lease, StoreError>> + Send {
        let _ = (key, variant, ttl);
        async { Ok(Lease::Unshared) }
    }

    /// Gives back a lease [`lease`](Self::lease) granted, waking the
    /// instances waiting on it.
    fn release(
        &self,
        key: &CacheKey,
        variant: &str,
        token: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (key, variant, token);
        async { Ok(()) }
    }

    /// Waits until the lease on `variant` of `key` is released or has
    /// expired, at most `max`. Returns at once for a store that is not
    /// shared.
    fn wait(
        &self,
        key: &CacheKey,
        variant: &str,
        max: Duration,
    ) -> impl Future<Output = ()> + Send {
        let _ = (key, variant, max);
        async {}
    }

    /// Sends `message` to every instance [`listen`](Self::listen)ing on
    /// this store (the sender included). A store that is not shared
    /// sends nothing (the default).
    fn broadcast(&self, message: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = message;
        async { Ok(()) }
    }

    /// The messages [`broadcast`](Self::broadcast) on this store, from now
    /// on; `None` for a store that is not shared (the default).
    fn listen(&self) -> impl Future<Output = Option<broadcast::Receiver<Notice>>> + Send {
        async { None }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Store`] behind a pointer.
pub(crate) trait DynStore: std::fmt::Debug + Send + Sync + 'static {
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
    ) -> BoxFuture<'a, Result<Lookup, StoreError>>;
    fn get_now(&self, key: &CacheKey, variant: &str) -> Option<Result<Lookup, StoreError>>;
    fn put<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        entry: Entry,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn purge<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<(), StoreError>>;
    fn purge_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn soft_purge<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<(), StoreError>>;
    fn soft_purge_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn count_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn count_variants<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn purge_tag_progress<'a>(
        &'a self,
        tag: &'a str,
        soft: bool,
        progress: &'a Progress<'a>,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn stats<'a>(
        &'a self,
        progress: &'a Progress<'a>,
    ) -> BoxFuture<'a, Result<StoreStats, StoreError>>;
    fn lease<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Lease, StoreError>>;
    fn release<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        token: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn wait<'a>(&'a self, key: &'a CacheKey, variant: &'a str, max: Duration) -> BoxFuture<'a, ()>;
}

impl<S: Store> DynStore for S {
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
    ) -> BoxFuture<'a, Result<Lookup, StoreError>> {
        Box::pin(Store::get(self, key, variant))
    }
    fn get_now(&self, key: &CacheKey, variant: &str) -> Option<Result<Lookup, StoreError>> {
        Store::get_now(self, key, variant)
    }
    fn put<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        entry: Entry,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::put(self, key, variant, entry, ttl))
    }
    fn purge<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::purge(self, key))
    }
    fn purge_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(Store::purge_tag(self, tag))
    }
    fn soft_purge<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::soft_purge(self, key))
    }
    fn soft_purge_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(Store::soft_purge_tag(self, tag))
    }
    fn count_tag<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(Store::count_tag(self, tag))
    }
    fn count_variants<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(Store::count_variants(self, key))
    }
    fn purge_tag_progress<'a>(
        &'a self,
        tag: &'a str,
        soft: bool,
        progress: &'a Progress<'a>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(Store::purge_tag_progress(self, tag, soft, progress))
    }
    fn stats<'a>(
        &'a self,
        progress: &'a Progress<'a>,
    ) -> BoxFuture<'a, Result<StoreStats, StoreError>> {
        Box::pin(Store::stats(self, progress))
    }
    fn lease<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Lease, StoreError>> {
        Box::pin(Store::lease(self, key, variant, ttl))
    }
    fn release<'a>(
        &'a self,
        key: &'a CacheKey,
        variant: &'a str,
        token: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::release(self, key, variant, token))
    }
    fn wait<'a>(&'a self, key: &'a CacheKey, variant: &'a str, max: Duration) -> BoxFuture<'a, ()> {
        Box::pin(Store::wait(self, key, variant, max))
    }
}
