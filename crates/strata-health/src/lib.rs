#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod check;
pub mod checks;
mod config;
mod drain;
mod endpoint;
mod future;
mod guard;
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
pub use self::config::HealthBuilder;
#[doc(inline)]
pub use self::drain::Drain;
#[doc(inline)]
pub use self::endpoint::{Endpoint, ShowDetails};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::guard::DetailsRefused;
#[doc(inline)]
pub use self::layer::{
    DEFAULT_CACHE_TTL, DEFAULT_FAILURE_TTL, DEFAULT_REFRESH_EVERY, DEFAULT_TIMEOUT, HealthLayer,
};
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::metrics::HealthMetrics;
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
