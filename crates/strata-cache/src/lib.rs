#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod clock;
mod conditional;
mod config;
mod data;
mod directives;
mod encoding;
mod entry;
mod error;
mod fetch;
mod flight;
mod flow;
mod future;
mod handle;
mod invalidate;
mod key;
mod layer;
#[cfg(feature = "prometheus")]
mod metrics;
mod miss;
mod observe;
mod policy;
mod respond;
mod service;
mod status;
mod store;

pub use self::body::CacheBody;
pub use self::config::{
    CacheBuilder, DEFAULT_COLLAPSE_TIMEOUT, DEFAULT_HIT_FOR_MISS, DEFAULT_KEEP_STALE,
    DEFAULT_MAX_OBJECT_BYTES, DEFAULT_MAX_VARY_FIELDS, DEFAULT_STORE_TIMEOUT,
};
pub use self::data::DataCache;
pub use self::data::config::{DEFAULT_DATA_STORE_TIMEOUT, DEFAULT_LOAD_TIMEOUT, DataCacheBuilder};
pub use self::data::error::{DataError, LoadError};
pub use self::data::key::{DataKey, Ttl};
#[cfg(feature = "prometheus")]
pub use self::data::metrics::DataCacheMetrics;
pub use self::entry::Entry;
pub use self::error::StoreError;
pub use self::future::{InnerFuture, ResponseFuture};
pub use self::handle::CacheHandle;
pub use self::key::CacheKey;
pub use self::layer::CacheLayer;
#[cfg(feature = "prometheus")]
pub use self::metrics::CacheMetrics;
pub use self::service::Cache;
pub use self::store::memory::{DEFAULT_MAX_BYTES, MAX_VARIANTS};
#[cfg(feature = "redis")]
pub use self::store::redis::RedisStore;
pub use self::store::tiered::{DEFAULT_MAX_VALUE_BYTES, DEFAULT_MEMORY_TTL};
pub use self::store::{
    Lease, Lookup, MemoryStore, Notice, Progress, Store, StoreStats, Tier, TieredStore,
};

/// The `Cache-Status` response header (RFC 9211).
pub const CACHE_STATUS: http::HeaderName = http::HeaderName::from_static("cache-status");
