//! Typed keys and per-call lifetimes of the data cache.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::CacheKey;

/// The key of a value of type `V`: a namespace and an id, rendered
/// `<namespace>:<id>` (`%` and `:` of the namespace escaped as `%25` and
/// `%3A`, so two namespaces never collide). The store keeps it under
/// the digest of `DATA <rendered>`, which no response-cache key shares.
///
/// The type parameter ties the key to what it holds: a
/// `DataKey<Vec<Item>>` cannot be read as an `Item`. Change the
/// namespace (`item.v2`) when `V`'s encoding changes; a value that does
/// not decode is counted and treated as a miss.
///
/// ```
/// use strata_cache::DataKey;
///
/// let key = DataKey::<String>::new("user:name", 42);
/// assert_eq!(key.as_str(), "user%3Aname:42");
/// ```
pub struct DataKey<V> {
    text: String,
    store: CacheKey,
    value: PhantomData<fn() -> V>,
}

impl<V> DataKey<V> {
    /// The key `id` in `namespace`.
    pub fn new(namespace: &str, id: impl fmt::Display) -> Self {
        let namespace = namespace.replace('%', "%25").replace(':', "%3A");
        let text = format!("{namespace}:{id}");
        Self {
            store: CacheKey::data(&text),
            text,
            value: PhantomData,
        }
    }

    /// `<namespace>:<id>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn store_key(&self) -> &CacheKey {
        &self.store
    }
}

impl<V> Clone for DataKey<V> {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            store: self.store.clone(),
            value: PhantomData,
        }
    }
}

impl<V> fmt::Debug for DataKey<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DataKey").field(&self.text).finish()
    }
}

impl<V> PartialEq for DataKey<V> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<V> Eq for DataKey<V> {}

/// How long a value is kept, and what happens around its expiry: its tags,
/// stale-on-error, refresh-ahead and negative caching. A [`Duration`] is a
/// `Ttl` with nothing else set.
///
/// ```
/// use std::time::Duration;
/// use strata_cache::Ttl;
///
/// let ttl = Ttl::new(Duration::from_secs(60))
///     .tag("item:7")
///     .stale_on_error(Duration::from_secs(600))
///     .refresh_ahead(0.8)
///     .negative(Duration::from_secs(5));
/// assert_eq!(ttl.ttl(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Ttl {
    pub(crate) ttl: Duration,
    pub(crate) tags: Vec<String>,
    pub(crate) stale: Duration,
    pub(crate) refresh_at: Option<f64>,
    pub(crate) negative: Option<Duration>,
}

impl Ttl {
    /// Fresh for `ttl` (at least 1 ms is kept).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl: ttl.max(Duration::from_millis(1)),
            tags: Vec::new(),
            stale: Duration::ZERO,
            refresh_at: None,
            negative: None,
        }
    }

    /// Fresh for `secs` seconds.
    pub fn secs(secs: u64) -> Self {
        Self::new(Duration::from_secs(secs))
    }

    /// The freshness lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Tags the value (for [`DataCache::purge_tag`](crate::DataCache::purge_tag)).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Tags the value with each of `tags`.
    pub fn tags<I: IntoIterator<Item = T>, T: Into<String>>(mut self, tags: I) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Keeps the value `for_` past its freshness, served by
    /// [`get_or_insert_with`](crate::DataCache::get_or_insert_with) only
    /// when the loader fails (or times out). Default none.
    pub fn stale_on_error(mut self, for_: Duration) -> Self {
        self.stale = for_;
        self
    }

    /// Once `fraction` (between 0 and 1, clamped) of the freshness has
    /// passed, a hit on [`get_or_insert_with`](crate::DataCache::get_or_insert_with)
    /// starts one background refresh (one at a time per key) and is served
    /// the current value meanwhile. Default none.
    pub fn refresh_ahead(mut self, fraction: f64) -> Self {
        self.refresh_at = Some(if fraction.is_nan() {
            1.0
        } else {
            fraction.clamp(0.0, 1.0)
        });
        self
    }

    /// Remembers a loader error for `ttl` in this process: calls within it
    /// get the same error without running the loader. Default none (errors
    /// are never cached).
    pub fn negative(mut self, ttl: Duration) -> Self {
        self.negative = Some(ttl);
        self
    }
}

impl From<Duration> for Ttl {
    fn from(ttl: Duration) -> Self {
        Self::new(ttl)
    }
}
