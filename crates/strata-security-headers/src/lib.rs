//! Helmet-grade security headers for tower, axum and hyper.

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod config;
mod csp;
mod error;
mod future;
mod layer;
mod nonce;
mod permissions;
mod service;
mod values;

#[doc(inline)]
pub use self::csp::{ContentSecurityPolicy, CspBuilder, Source};
#[doc(inline)]
pub use self::error::ConfigError;
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::layer::{HeaderMode, SecurityHeadersLayer};
#[doc(inline)]
pub use self::nonce::{CspNonce, NONCE_BYTES};
#[doc(inline)]
pub use self::permissions::{Allowlist, Feature, PermissionsPolicy};
#[doc(inline)]
pub use self::service::SecurityHeaders;
#[doc(inline)]
pub use self::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    Hsts, PermittedCrossDomainPolicies, ReferrerPolicy,
};
