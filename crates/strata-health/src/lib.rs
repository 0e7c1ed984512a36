//! Liveness, readiness and detailed health endpoints for tower and axum.
//!
//! [`HealthLayer`] answers health probes in front of any service, in
//! `application/health+json` (draft-inadarei-api-health-check):
//!
//! | route | answers |
//! |---|---|
//! | `/health` | the service's status: the worst of all checks |
//! | `/health/live` | `pass` while the process answers; never runs a check |
//! | `/health/ready` | the critical checks, and `fail` while [draining](Drain) |
//! | `/health/detailed` | every check with its details, and a `system` section |
//!
//! Checks ([`Check`], [`check_fn`], [`checks`]) run concurrently, each under
//! its own timeout, so a hanging dependency becomes `fail` at its timeout and
//! the probe still answers. Results are cached for a TTL and refreshed in the
//! background, and concurrent probes share one run: a thousand probes cost
//! one round of checks, so probes cannot hammer the dependencies. A failing
//! non-critical check makes the service `warn` (HTTP 200); any critical
//! `fail` makes it `fail` (HTTP 503).
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use strata_health::{HealthLayer, Registration, Status, check_fn};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (health, drain) = HealthLayer::builder()
//!     .release_id(env!("CARGO_PKG_VERSION"))
//!     .check("database", check_fn(|| async {
//!         // sqlx::query("SELECT 1").execute(&pool).await.map(|_| ())
//!         Ok::<_, std::io::Error>(())
//!     }))
//!     .register(
//!         Registration::new("search", check_fn(|| async { Status::Fail })).critical(false),
//!     )
//!     .pair()?;
//! let service = ServiceBuilder::new()
//!     .layer(health)
//!     .service_fn(|_: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("app"))))
//!     });
//!
//! let request = |uri| Request::get(uri).body(Full::default());
//! let response = service.clone().oneshot(request("/health/detailed")?).await?;
//! assert_eq!(response.status(), StatusCode::OK); // a non-critical failure only warns
//! assert_eq!(response.headers()["content-type"], "application/health+json");
//! let body = response.into_body().collect().await?.to_bytes();
//! let report: serde_json::Value = serde_json::from_slice(&body)?;
//! assert_eq!(report["status"], "warn");
//! assert_eq!(report["checks"]["database:responseTime"][0]["status"], "pass");
//! assert_eq!(report["checks"]["search:responseTime"][0]["status"], "fail");
//!
//! // On SIGTERM: readiness fails first, so the load balancer stops routing
//! // here while requests in flight finish.
//! drain.drain();
//! let ready = service.oneshot(request("/health/ready")?).await?;
//! assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `system` (default): `checks::DiskSpaceCheck`, `checks::MemoryCheck`,
//!   `checks::CpuCheck`, and CPU, memory and disk usage in the `system`
//!   section of detailed reports (through `sysinfo`).
//! - `redis`: `checks::RedisCheck`, a `PING` through a `fred` client.
//! - `http-check`: `checks::HttpCheck`, an HTTP/1.1 `GET` (plain `http://`).
//! - `prometheus`: `HealthBuilder::metrics` registers a gauge per check
//!   status and a histogram of check durations.
//!
//! # Deployment
//!
//! - Point the Kubernetes `livenessProbe` at `/health/live` and the
//!   `readinessProbe` at `/health/ready`. Liveness never looks at
//!   dependencies: a database outage must not restart every pod.
//! - Register a dependency that every instance shares (Redis, a database
//!   behind all replicas) as non-critical when the service degrades without
//!   it: failing readiness on it would pull every instance out of the load
//!   balancer at once.
//! - A probe that has to run checks answers within the slowest selected
//!   check's [timeout](HealthBuilder::timeout) (1 s by default); keep probe
//!   timeouts above it.
//! - Put the layer outside rate limiting, so probes are never rejected.
//!
//! # Security
//!
//! Detailed reports show check outputs (error messages, host names) and
//! resource usage. Serve them on an internal port, or restrict them with
//! [`HealthBuilder::show_details`] or [`HealthBuilder::show_details_when`]
//! (restricted requests get the summary), or refuse them with 403 to
//! clients outside an allow-list and without a token with
//! [`HealthBuilder::guard_details`] and a [`DetailsGuard`].
//!
//! # Bounds
//!
//! Memory is fixed at build time: one cached result per check. Each check
//! runs at most once per [TTL](HealthBuilder::cache_ttl) plus once per
//! [background round](HealthBuilder::refresh_every), whatever the probe rate;
//! metric label values are the check keys, fixed at build time.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod check;
pub mod checks;
mod drain;
mod endpoint;
mod error;
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
pub use self::builder::HealthBuilder;
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
pub use self::guard::{DetailsGuard, DetailsRefused};
#[doc(inline)]
pub use self::layer::{
    DEFAULT_CACHE_TTL, DEFAULT_FAILURE_TTL, DEFAULT_REFRESH_EVERY, DEFAULT_TIMEOUT, HealthLayer,
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
