//! The few pieces several strata layers share.
//!
//! - [`ClientIp`] and [`Scheme`]: who sent a request and over what, believing
//!   forwarding headers only from [`TrustedProxies`] ([`ClientIpResolver`],
//!   [`ResolveClientIpLayer`]), and [`mask_ipv6`] for address keys.
//! - [`Problem`]: RFC 9457 `application/problem+json` responses, the body of
//!   every strata rejection.
//! - [`guard::AccessGuard`]: an address allow-list and a bearer token for
//!   internal endpoints (`/metrics`, detailed health).
//! - [`redis::RedisPoolBuilder`] (feature `redis`): a `fred` pool with defaults
//!   that keep a service answering while Redis is down.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use strata_core::{ClientIpResolver, TrustedProxies};
//!
//! // Behind a load balancer at 10.0.0.0/8 that appends to X-Forwarded-For.
//! let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse()?);
//!
//! let mut request = http::Request::builder()
//!     .header("x-forwarded-for", "203.0.113.50")
//!     .body(())?;
//! request.extensions_mut().insert(SocketAddr::from(([10, 1, 2, 3], 55555)));
//! assert_eq!(resolver.client_ip(&request).map(|c| c.to_string()).as_deref(), Some("203.0.113.50"));
//!
//! // The same header from a client connecting directly is ignored.
//! request.extensions_mut().insert(SocketAddr::from(([198, 51, 100, 1], 55555)));
//! assert_eq!(resolver.client_ip(&request).map(|c| c.to_string()).as_deref(), Some("198.51.100.1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! - `axum` (default): [`ClientIp`] and [`Scheme`] extractors, `ConnectInfo` as a peer
//!   address source, and `IntoResponse` for [`Problem`].
//! - `redis`: [`redis::RedisPoolBuilder`].
//! - `redis-tls`: `rediss://` URLs (rustls).
//! - `prometheus`: [`metrics::register_all`] and [`ConfigError::Registry`],
//!   for the crates that register collectors.
//!
//! # Security
//!
//! Forwarding headers are believed only when the connection comes from a
//! trusted proxy, and the chain is read from the right: entries a client wrote
//! itself are never used. Configure the one header your proxies write
//! ([`ForwardedHeader`]); a header they pass through untouched is the client's.
//! A chain that cannot be read where the client should be gives
//! [`ClientIp::unresolved`] (`0.0.0.0`), never the proxy's address. The scheme
//! is the connection's or a trusted proxy's, never the request target's.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client_ip;
mod error;
#[cfg(feature = "axum")]
mod extract;
pub mod guard;
pub mod headers;
#[cfg(feature = "prometheus")]
pub mod metrics;
mod problem;
#[cfg(feature = "redis")]
pub mod redis;

#[doc(inline)]
pub use self::client_ip::{
    ClientIp, ClientIpResolver, DEFAULT_MAX_HOPS, ForwardedHeader, IpSource, ResolveClientIp,
    ResolveClientIpLayer, Scheme, TrustedProxies, mask_ipv6,
};
#[doc(inline)]
pub use self::error::ConfigError;
#[doc(inline)]
pub use self::problem::{PROBLEM_JSON, Problem};
