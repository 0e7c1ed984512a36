#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admin;
mod config;
mod decision;
mod future;
mod headers;
mod key;
mod layer;
#[cfg(feature = "prometheus")]
mod metrics;
mod quota;
mod rejection;
mod rule;
mod service;
mod store;
mod verdict;

pub use self::admin::{RateLimitAdmin, Usage};
pub use self::config::{MissingKey, RateLimitBuilder};
pub use self::decision::{Decision, PolicyState};
pub use self::future::ResponseFuture;
pub use self::headers::HeaderStyle;
pub use self::key::{Key, KeyBy, MAX_KEY_LEN};
pub use self::layer::RateLimitLayer;
#[cfg(feature = "prometheus")]
pub use self::metrics::RateLimitMetrics;
pub use self::quota::{Policy, Quota};
pub use self::rejection::{DefaultRejection, OnRejection, QUOTA_EXCEEDED, Rejection};
pub use self::rule::{Rule, Tiers};
pub use self::service::RateLimit;
pub use self::store::memory::{DEFAULT_MAX_KEYS, DEFAULT_SWEEP_INTERVAL};
#[cfg(feature = "redis")]
pub use self::store::redis::{DEFAULT_DENY_CACHE, DEFAULT_TIMEOUT, OnStoreError, RedisStore};
pub use self::store::{MemoryClock, MemoryStore, Store, StoreError};
