#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
#[cfg(feature = "cpu")]
mod cpu;
mod listener;
mod runtime;
mod service;

#[doc(inline)]
pub use self::config::{DEFAULT_FREQUENCY, DEFAULT_MAX_SECONDS, DEFAULT_SECONDS, ProfilingBuilder};
#[doc(inline)]
pub use self::listener::{AdminListener, AdminListenerBuilder, BoundAdminListener, DEFAULT_ADDR};
#[doc(inline)]
pub use self::service::{FLAMEGRAPH_PATH, PROFILE_PATH, ProfilingService, RUNTIME_PATH};
