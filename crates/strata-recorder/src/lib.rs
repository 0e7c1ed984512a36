#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod body;
mod capture;
mod config;
pub mod export;
mod form;
mod future;
mod handle;
mod layer;
#[cfg(feature = "prometheus")]
mod metrics;
mod query;
mod record;
mod redact;
mod retain;
mod service;
mod shared;
pub mod store;
mod viewer;

#[doc(inline)]
pub use self::body::RecordBody;
#[doc(inline)]
pub use self::config::{
    DEFAULT_BODY_CAP, DEFAULT_QUEUE, DEFAULT_STORE_TIMEOUT, MAX_BODY_CAP, RecorderBuilder,
};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::handle::{MAX_EXPORT, RecorderHandle, RecorderStats};
#[doc(inline)]
pub use self::layer::RecorderLayer;
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::metrics::RecorderMetrics;
#[doc(inline)]
pub use self::query::{DEFAULT_PAGE, MAX_PAGE, Page, Query};
#[doc(inline)]
pub use self::record::{BodyRecord, Exchange, Outcome, RecordTags, Summary};
#[doc(inline)]
pub use self::redact::{DEFAULT_REDACTED_FIELDS, DEFAULT_REDACTED_HEADERS};
#[doc(inline)]
pub use self::retain::{DEFAULT_SLOW, Retain};
#[doc(inline)]
pub use self::service::Recorder;
#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::store::RedisStore;
#[doc(inline)]
pub use self::store::{MemoryStore, Store, StoreError};
#[doc(inline)]
pub use self::viewer::RecorderViewer;
