//! GCRA rate limiting for tower, axum and hyper: in memory, or shared by every
//! instance through one Redis script.
//!
//! A [`RateLimitLayer`] resolves each request to a [`Key`] (client IP behind
//! trusted proxies, API-key header, user id, anything) and the [`Policy`]s of
//! its tier, asks a [`Store`] whether the request fits, and either passes it
//! on or answers `429 Too Many Requests` as RFC 9457 problem+json with a
//! `Retry-After` rounded up. Every response it touches carries the IETF
//! `RateLimit` and `RateLimit-Policy` headers.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use strata_rate_limit::{KeyBy, Policy, Quota, RateLimitLayer, Rule};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = RateLimitLayer::new(Rule::new(
//!     KeyBy::client_ip(),
//!     Policy::new("per-ip", Quota::per_minute(2)),
//! ))?;
//! let service = ServiceBuilder::new().layer(layer).service_fn(|_: Request<()>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//! });
//!
//! let request = || {
//!     let mut request = Request::new(());
//!     // What a server records for the connection (axum: `ConnectInfo`).
//!     request.extensions_mut().insert(SocketAddr::from(([192, 0, 2, 1], 4000)));
//!     request
//! };
//! let first = service.clone().oneshot(request()).await?;
//! assert_eq!(first.status(), StatusCode::OK);
//! assert_eq!(first.headers()["ratelimit-policy"], r#""per-ip";q=2;w=60"#);
//! assert_eq!(first.headers()["ratelimit"], r#""per-ip";r=1;t=30"#);
//!
//! service.clone().oneshot(request()).await?;
//! let limited = service.clone().oneshot(request()).await?;
//! assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(limited.headers()["retry-after"], "30");
//! assert_eq!(limited.headers()["content-type"], "application/problem+json");
//! # Ok(())
//! # }
//! ```
//!
//! Tiers ("anonymous 60/min per IP, users 300/min per user id, the admin
//! 1000/min") are one layer: see [`Tiers`]. A per-route limit is the layer
//! applied to that route (axum: `.route_layer(..)` or a layered
//! `MethodRouter`); nested layers each append their policy to the headers.
//!
//! # Semantics
//!
//! - [`Quota::per_minute(60)`](Quota::per_minute) is 60 per minute, one
//!   replenished every second, 60 at once; [`Quota::burst`] changes the last.
//! - A [`Rule`] with several policies checks them atomically: either every
//!   policy consumes or none does.
//! - Headers (default [`HeaderStyle::Draft10`]):
//!   `RateLimit-Policy: "<name>";q=<count>;w=<period-seconds>` and
//!   `RateLimit: "<name>";r=<remaining>;t=<seconds-until-full>`, one list
//!   item per policy, appended to any an inner layer set. `Retry-After` on a
//!   429 is whole seconds rounded **up**, at least 1.
//! - Refusals go through [`on_rejection`](RateLimitBuilder::on_rejection);
//!   the [`Rejection`] is in the response extensions.
//!
//! # Feature flags
//!
//! - `axum`: read axum's `ConnectInfo<SocketAddr>` as the peer address
//!   (enable it when serving with `into_make_service_with_connect_info`).
//! - `redis`: [`RedisStore`], state shared through Redis (a `fred` pool from
//!   [`strata_core::redis::RedisPoolBuilder`]).
//! - `prometheus`: [`RateLimitMetrics`], counters registered into your
//!   `prometheus::Registry`.
//!
//! # Deployment
//!
//! - **Client addresses.** [`KeyBy::client_ip`] uses the
//!   [`ClientIp`](strata_core::ClientIp) that
//!   [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) resolved (forwarding
//!   headers believed only from trusted proxies), else the peer address. Put
//!   `ResolveClientIpLayer` *outside* this layer when behind a proxy, or every
//!   client shares the proxy's quota. IPv6 addresses are keyed by their `/64`.
//! - **Memory.** [`MemoryStore`] holds at most `max_keys` keys per policy
//!   (default 1,000,000, about 70 bytes each plus key text) and drops fully
//!   replenished keys every 30 s. Each instance counts on its own: N
//!   instances allow up to N times the quota. It reads a fast CPU clock by
//!   default; tests on tokio's paused time choose
//!   [`MemoryClock::Tokio`] (see [`MemoryStore::clock`]).
//! - **Redis.** [`RedisStore`] (feature `redis`) shares the count; a Redis
//!   outage is a policy ([`OnStoreError`]: fall back to memory by default,
//!   fail open, or fail closed with 503), each call is bounded by a timeout
//!   (50 ms by default), and keys known to be refused are answered locally
//!   until their retry time.

#![cfg_attr(docsrs, feature(doc_cfg))]

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

pub use self::decision::{Decision, PolicyState};
pub use self::future::ResponseFuture;
pub use self::headers::HeaderStyle;
pub use self::key::{Key, KeyBy, MAX_KEY_LEN};
pub use self::layer::{MissingKey, RateLimitBuilder, RateLimitLayer};
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
