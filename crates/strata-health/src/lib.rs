//! Liveness, readiness and detailed health endpoints for tower and axum.
//!
//! # Example
//!
//! TODO

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod check;
pub mod checks;
mod drain;
mod endpoint;
mod error;
mod future;
mod layer;
#[cfg(feature = "prometheus")]
mod metrics;
mod observation;
mod registration;
mod report;
mod service;
mod state;
mod status;
mod time;

#[doc(inline)]
pub use self::check::{Check, FnCheck, check_fn};
#[doc(inline)]
pub use self::drain::Drain;
#[doc(inline)]
pub use self::endpoint::{Endpoint, ShowDetails};
#[doc(inline)]
pub use self::error::BuildError;
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::layer::{
    DEFAULT_CACHE_TTL, DEFAULT_REFRESH_EVERY, DEFAULT_TIMEOUT, HealthBuilder, HealthLayer,
};
#[doc(inline)]
pub use self::observation::{IntoObservation, Observation};
#[doc(inline)]
pub use self::registration::Registration;
#[doc(inline)]
pub use self::report::HEALTH_JSON;
#[doc(inline)]
pub use self::service::Health;
#[doc(inline)]
pub use self::status::Status;
