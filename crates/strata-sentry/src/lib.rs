#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod body;
mod config;
mod context;
mod future;
mod init;
mod layer;
mod problem;
mod report;
mod request;
mod service;
mod testing;
mod trace;

#[doc(inline)]
pub use self::body::SentryBody;
#[doc(inline)]
pub use self::config::{
    DEFAULT_CAPTURE_STATUS, DEFAULT_MAX_PROBLEM_SIZE, MAX_PROBLEM_SIZE_LIMIT, RouteClassifier,
    SentryBuilder, UNMATCHED,
};
#[doc(inline)]
pub use self::context::{
    ResponseError, SentryUser, add_breadcrumb, breadcrumb, capture_error, set_user,
};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::init::{Init, UNSAMPLED_PATHS, drop_client_errors, traces_sampler};
#[doc(inline)]
pub use self::layer::SentryLayer;
#[doc(inline)]
pub use self::request::is_scrubbed;
#[doc(inline)]
pub use self::service::Sentry;
#[doc(inline)]
pub use self::testing::Capture;
#[doc(inline)]
pub use self::trace::tracing_layer;

/// The `sentry` crate this one is built on (`User`, `ClientOptions`,
/// `ClientInitGuard`, the protocol types...), so its version always matches.
pub use sentry;
