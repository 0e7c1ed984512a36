//! Production middleware for axum and hyper services, one tower layer per
//! concern, in memory on one machine or shared through Redis across many.
//!
//! This crate gathers the strata member crates under one name, each behind a
//! feature of the same name. Every member crate is usable on its own
//! (`cargo add strata-core`); this umbrella is for composing the whole stack.
//!
//! | module | crate | what it does |
//! |---|---|---|
//! | [`core`] | `strata-core` | client IP behind trusted proxies, RFC 9457 problems, the Redis pool |
//! | [`security_headers`] | `strata-security-headers` | helmet-grade headers, CSP nonces and a violation collector, trusted hosts, HTTPS redirects |
//! | [`health`] | `strata-health` | liveness, readiness and detailed health in `application/health+json`, graceful drain |
//! | [`metrics`] | `strata-metrics` | Prometheus RED metrics under OpenTelemetry names, bounded cardinality, `/metrics` |
//! | [`rate_limit`] | `strata-rate-limit` | GCRA rate limiting, in memory or shared through Redis, tiers, IETF `RateLimit` headers |
//! | [`session`] | `strata-session` | cookie sessions with per-key writes, id rotation, per-user revocation, a cross-site request guard |
//! | [`recorder`] | `strata-recorder` | records exchanges (headers, body prefixes, timings, client, session), redacted before storage, bounded, queryable, HAR / JSON lines export and a viewer, in memory or Redis |
//! | [`cache`] | `strata-cache` | shared HTTP response cache (RFC 9111): `Vary`, `Age`, `Cache-Status`, 304s, stale-while-revalidate, tags and soft purge, coalescing, in memory or Redis |
//! | [`profiling`] | `strata-profiling` | CPU profiles (pprof, flamegraph) and tokio runtime metrics on a guarded admin listener |
//! | [`sentry`] | `strata-sentry` | Sentry error tracking: server errors and panics as events, transactions named by route, scrubbed requests |
//! | [`compression`] | `strata-compression` | response compression (br, zstd, gzip, deflate) and request decompression with a size cap |
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use axum::{Router, routing::get};
//! use strata::core::{ClientIp, ResolveClientIpLayer, ClientIpResolver};
//!
//! # #[cfg(feature = "axum")] // the `ClientIp` extractor
//! # fn main() -> Result<(), strata::core::ConfigError> {
//! let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse()?);
//! let app: Router = Router::new()
//!     .route("/", get(|client: ClientIp| async move { client.to_string() }))
//!     .layer(ResolveClientIpLayer::new(resolver));
//! // axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
//! # let _ = app.into_make_service_with_connect_info::<SocketAddr>();
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "axum"))]
//! # fn main() {}
//! ```
//!
//! # Stack order
//!
//! Outermost first: client IP → sentry → metrics → recorder → security
//! headers → health → session → rate limit → cache → compression → handler.
//! The session sits outside the rate limit so per-user tiers see the user;
//! compression sits inside the cache so the cache stores compressed variants
//! and a hit costs no compression. See `docs/architecture.md`.
//!
//! # Feature flags
//!
//! All on by default (`full`); pick with `default-features = false`. Every
//! member crate's feature is forwarded under the same name, with the same
//! meaning in every crate that has it.
//!
//! - `full`: everything below but `redis-tls`.
//! - `cache`, `compression`, `health`, `metrics`, `profiling`, `rate-limit`, `recorder`,
//!   `security-headers`, `sentry`, `session`: the
//!   member crate of the same name.
//! - `axum`: axum extractors, `ConnectInfo` as the peer address and
//!   `MatchedPath` as the route, in the member crates.
//! - `redis`: Redis-backed stores (rate limit, sessions, cache), the Redis health check, and
//!   [`core::redis::RedisPoolBuilder`]; `redis-tls`: `rediss://` URLs.
//! - `prometheus`: the member crates' collectors, registered into the
//!   `prometheus::Registry` you pass them (the one `metrics` renders).
//! - `br`, `zstd`, `gzip`, `deflate`: the compression codings.
//! - `system`, `http-check`: the health report's system section and the
//!   HTTP check.
//! - `process`: the process collector in the metrics registry.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use strata_core as core;
#[cfg(feature = "metrics")]
#[doc(inline)]
pub use strata_metrics as metrics;
#[cfg(feature = "security-headers")]
#[doc(inline)]
pub use strata_security_headers as security_headers;

#[cfg(feature = "compression")]
#[doc(inline)]
pub use strata_compression as compression;

/// The README's examples, compiled as doc tests so they stay correct (they
/// use the axum extractors).
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
#[cfg(feature = "cache")]
#[doc(inline)]
pub use strata_cache as cache;
#[cfg(feature = "health")]
#[doc(inline)]
pub use strata_health as health;
#[cfg(feature = "profiling")]
#[doc(inline)]
pub use strata_profiling as profiling;
#[cfg(feature = "rate-limit")]
#[doc(inline)]
pub use strata_rate_limit as rate_limit;
#[cfg(feature = "recorder")]
#[doc(inline)]
pub use strata_recorder as recorder;
#[cfg(feature = "sentry")]
#[doc(inline)]
pub use strata_sentry as sentry;
#[cfg(feature = "session")]
#[doc(inline)]
pub use strata_session as session;
