#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod admin;
mod clock;
mod commit;
mod config;
mod cookie;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod guard;
mod id;
mod layer;
#[cfg(feature = "prometheus")]
mod metrics;
mod observe;
mod rejection;
mod service;
mod session;
pub mod store;

#[doc(inline)]
pub use self::admin::SessionAdmin;
#[doc(inline)]
pub use self::clock::Clock;
#[doc(inline)]
pub use self::config::{
    DEFAULT_ABSOLUTE_LIFETIME, DEFAULT_IDLE_TIMEOUT, DEFAULT_ROTATION_GRACE, DEFAULT_STORE_TIMEOUT,
    DEFAULT_TOUCH_INTERVAL, OnStoreError, SessionBuilder,
};
#[doc(inline)]
pub use self::cookie::SameSite;
#[cfg(feature = "axum")]
#[doc(inline)]
pub use self::extract::SessionRejection;
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::layer::SessionLayer;
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::metrics::SessionMetrics;
#[doc(inline)]
pub use self::rejection::{CrossSiteRefusal, Rejection};
#[doc(inline)]
pub use self::service::SessionManager;
#[doc(inline)]
pub use self::session::{Session, SessionError};
#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::store::RedisStore;
#[doc(inline)]
pub use self::store::{MemoryStore, RecordId, SessionInfo, Store, StoreError};
