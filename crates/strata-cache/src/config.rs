//! The settings of a [`CacheLayer`]: its builder, and what the layer and
//! its services share once built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use http::request::Parts;
use strata_core::ConfigError;

use crate::flight::Flights;
use crate::handle::CacheHandle;
use crate::policy::Limits;
use crate::store::DynStore;
use crate::{CacheLayer, MemoryStore, Store};

/// Default for [`CacheBuilder::max_object_bytes`]: 1 MiB.
pub const DEFAULT_MAX_OBJECT_BYTES: usize = 1024 * 1024;
/// Default for [`CacheBuilder::store_timeout`]: 50 ms.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(50);
/// Default for [`CacheBuilder::collapse_timeout`]: 5 s.
pub const DEFAULT_COLLAPSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for [`CacheBuilder::hit_for_miss`]: 10 s.
pub const DEFAULT_HIT_FOR_MISS: Duration = Duration::from_secs(10);
/// Default for [`CacheBuilder::keep_stale`]: 60 s.
pub const DEFAULT_KEEP_STALE: Duration = Duration::from_secs(60);
/// Default for [`CacheBuilder::max_vary_fields`]: 16.
pub const DEFAULT_MAX_VARY_FIELDS: usize = 16;

pub(crate) type PartsFn = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

/// What every clone of the layer and its services share.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) name: String,
    pub(crate) limits: Limits,
    pub(crate) keep_stale: Duration,
    pub(crate) store_timeout: Duration,
    pub(crate) collapse_timeout: Duration,
    pub(crate) coalesce: bool,
    pub(crate) tag_header: HeaderName,
    pub(crate) ignore_cookies: Option<PartsFn>,
    pub(crate) flights: Flights,
    /// The last store call failed (logged once per outage).
    pub(crate) store_down: std::sync::atomic::AtomicBool,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<crate::CacheMetrics>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store)
            .field("name", &self.name)
            .field("limits", &self.limits)
            .field("store_timeout", &self.store_timeout)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`CacheLayer`]; every one has a production default.
/// Made by [`CacheLayer::builder`]; [`build`](Self::build) or
/// [`pair`](Self::pair) checks them and reports the first invalid one by
/// its method's name ([`ConfigError::Invalid`] with `setting`
/// `"max_object_bytes"`, `"name"`, ..., or `"MemoryStore::max_bytes"`).
#[must_use]
pub struct CacheBuilder {
    store: Arc<dyn DynStore>,
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    memory: Option<MemoryStore>,
    store_check: Result<(), ConfigError>,
    name: String,
    max_object_bytes: usize,
    max_vary_fields: usize,
    default_ttl: Option<Duration>,
    keep_stale: Duration,
    hit_for_miss: Duration,
    store_timeout: Duration,
    collapse_timeout: Duration,
    coalesce: bool,
    tag_header: String,
    ignore_cookies: Option<PartsFn>,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::CacheMetrics>,
}

impl CacheBuilder {
    pub(crate) fn new<S: Store>(store: S) -> Self {
        let any = &store as &dyn std::any::Any;
        let memory = any.downcast_ref::<MemoryStore>().cloned();
        Self {
            store_check: crate::store::validate(&store),
            store: Arc::new(store),
            memory,
            name: "strata".to_owned(),
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            max_vary_fields: DEFAULT_MAX_VARY_FIELDS,
            default_ttl: None,
            keep_stale: DEFAULT_KEEP_STALE,
            hit_for_miss: DEFAULT_HIT_FOR_MISS,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            collapse_timeout: DEFAULT_COLLAPSE_TIMEOUT,
            coalesce: true,
            tag_header: "surrogate-key".to_owned(),
            ignore_cookies: None,
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }

    /// The cache's name in `Cache-Status` (RFC 9211): sent as a token when
    /// it is one, else as a quoted string. Default `strata`; printable
    /// ASCII.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Largest body stored; a larger one streams to the client and is not
    /// stored (never buffered). Default 1 MiB; between 1 byte and 512 MiB.
    pub fn max_object_bytes(mut self, bytes: usize) -> Self {
        self.max_object_bytes = bytes;
        self
    }

    /// A response whose `Vary` names more fields is not stored. Default
    /// 16; between 1 and 64.
    pub fn max_vary_fields(mut self, fields: usize) -> Self {
        self.max_vary_fields = fields;
        self
    }

    /// Freshness for responses that have neither explicit freshness nor a
    /// heuristic one. Default none: such responses are not stored. Opt in
    /// only for an origin you know.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// How long a stale response with validators (`ETag`,
    /// `Last-Modified`) is kept past its stale allowances, to revalidate it
    /// with a conditional request instead of fetching it whole. Default
    /// 60 s; at most a day.
    pub fn keep_stale(mut self, keep: Duration) -> Self {
        self.keep_stale = keep;
        self
    }

    /// How long a variant whose response turned out uncacheable skips
    /// coalescing ("hit-for-miss"), so its requests are not serialised.
    /// Default 10 s; zero disables it; at most an hour.
    pub fn hit_for_miss(mut self, ttl: Duration) -> Self {
        self.hit_for_miss = ttl;
        self
    }

    /// Longest wait for any one store call; past it the request goes to
    /// the origin (bypass) and the error is counted. Default 50 ms; between
    /// 1 ms and 10 s.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Longest a request waits for another request's fill of the same
    /// variant (and the lease time across instances) before it goes to the
    /// origin itself. Default 5 s; between 1 ms and 60 s.
    pub fn collapse_timeout(mut self, timeout: Duration) -> Self {
        self.collapse_timeout = timeout;
        self
    }

    /// Whether concurrent misses for one variant make one origin request
    /// (in process, and across instances on a shared store). Default
    /// `true`.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = coalesce;
        self
    }

    /// The response header listing the response's tags, space-separated
    /// (at most 64 tags of 256 bytes kept); it is removed before the
    /// response leaves. Default `Surrogate-Key`.
    pub fn tag_header(mut self, name: impl Into<String>) -> Self {
        self.tag_header = name.into();
        self
    }

    /// Requests for which `predicate` returns `true` are cached as if they
    /// had no `Cookie` (a route whose response does not depend on the
    /// session, such as a public catalogue). Without it, a request with
    /// `Cookie` reads and fills the cache only with responses marked
    /// `public` or `s-maxage`.
    pub fn ignore_cookies_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        self.ignore_cookies = Some(Arc::new(predicate));
        self
    }

    /// Count lookups, bytes, evictions, store errors and origin fetch
    /// times in `metrics` (one [`CacheMetrics`](crate::CacheMetrics) may
    /// serve several layers).
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::CacheMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the layer.
    pub fn build(self) -> Result<CacheLayer, ConfigError> {
        self.pair().map(|(layer, _)| layer)
    }

    /// Checks the settings and builds the layer and its [`CacheHandle`]
    /// (purges).
    pub fn pair(self) -> Result<(CacheLayer, CacheHandle), ConfigError> {
        let Some(name) = crate::status::render_name(&self.name) else {
            return Err(ConfigError::invalid(
                "name",
                "must be non-empty printable ASCII",
            ));
        };
        if self.max_object_bytes == 0 || self.max_object_bytes > 512 * 1024 * 1024 {
            return Err(ConfigError::invalid(
                "max_object_bytes",
                "must be between 1 and 512 MiB",
            ));
        }
        if !(1..=64).contains(&self.max_vary_fields) {
            return Err(ConfigError::invalid(
                "max_vary_fields",
                "must be between 1 and 64",
            ));
        }
        if self
            .default_ttl
            .is_some_and(|t| t.is_zero() || t > Duration::from_secs(365 * 86_400))
        {
            return Err(ConfigError::invalid(
                "default_ttl",
                "must be between 1 ms and a year",
            ));
        }
        if self.keep_stale > Duration::from_secs(86_400) {
            return Err(ConfigError::invalid("keep_stale", "must be at most a day"));
        }
        if self.hit_for_miss > Duration::from_secs(3600) {
            return Err(ConfigError::invalid(
                "hit_for_miss",
                "must be at most an hour",
            ));
        }
        let bounded = |d: Duration, max: Duration| d >= Duration::from_millis(1) && d <= max;
        if !bounded(self.store_timeout, Duration::from_secs(10)) {
            return Err(ConfigError::invalid(
                "store_timeout",
                "must be between 1 ms and 10 s",
            ));
        }
        if !bounded(self.collapse_timeout, Duration::from_secs(60)) {
            return Err(ConfigError::invalid(
                "collapse_timeout",
                "must be between 1 ms and 60 s",
            ));
        }
        let Ok(tag_header) = HeaderName::from_bytes(self.tag_header.as_bytes()) else {
            return Err(ConfigError::invalid(
                "tag_header",
                "must be a header field name",
            ));
        };
        self.store_check?;
        #[cfg(feature = "prometheus")]
        if let Some(memory) = &self.memory
            && let Some(metrics) = &self.metrics
        {
            let metrics = metrics.clone();
            let _ = memory
                .evictions()
                .set(Box::new(move |bytes| metrics.evicted(bytes)));
        }
        let shared = Arc::new(Shared {
            store: self.store,
            name,
            limits: Limits {
                max_vary_fields: self.max_vary_fields,
                max_object_bytes: self.max_object_bytes,
                default_ttl: self
                    .default_ttl
                    .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            },
            keep_stale: self.keep_stale,
            store_timeout: self.store_timeout,
            collapse_timeout: self.collapse_timeout,
            coalesce: self.coalesce,
            tag_header,
            ignore_cookies: self.ignore_cookies,
            flights: Flights::new(self.hit_for_miss),
            store_down: std::sync::atomic::AtomicBool::new(false),
            #[cfg(feature = "prometheus")]
            metrics: self.metrics,
        });
        Ok((
            CacheLayer {
                shared: Arc::clone(&shared),
            },
            CacheHandle::from_shared(shared),
        ))
    }
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("store", &self.store)
            .field("name", &self.name)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("max_vary_fields", &self.max_vary_fields)
            .field("default_ttl", &self.default_ttl)
            .field("keep_stale", &self.keep_stale)
            .field("hit_for_miss", &self.hit_for_miss)
            .field("store_timeout", &self.store_timeout)
            .field("collapse_timeout", &self.collapse_timeout)
            .field("coalesce", &self.coalesce)
            .field("tag_header", &self.tag_header)
            .finish_non_exhaustive()
    }
}
