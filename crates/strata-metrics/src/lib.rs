//! Prometheus RED metrics for axum and hyper services, under OpenTelemetry
//! names, with bounded cardinality and a guarded `/metrics` endpoint.
//!
//! [`MetricsLayer`] records, for every request:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_server_request_duration_seconds` | histogram, [`DURATION_BUCKETS`] | method, route, status, scheme, `error_type` on failures |
//! | `http_server_request_body_size_bytes` | histogram, [`SIZE_BUCKETS`] | same |
//! | `http_server_response_body_size_bytes` | histogram, [`SIZE_BUCKETS`] | same |
//! | `http_server_active_requests` | gauge | `http_request_method`, `url_scheme` |
//!
//! The labels are `http_request_method` (`_OTHER` for methods outside the
//! nine standard ones), `http_route` (the route **template**: axum's
//! `MatchedPath`, a [`RouteClassifier`], or [`UNMATCHED_ROUTE`]),
//! `http_response_status_code`, `url_scheme`, and `error_type` (the status
//! for 5xx, `_OTHER` when the service or the response body failed). The
//! duration runs until the response body has been sent, or dropped by a
//! client that hung up, which is not an error. The response size counts the
//! bytes the body yielded; the request size is the declared length
//! (`Content-Length`, or the body's exact size), and a request body of unknown
//! length is left out of that histogram.
//!
//! # Example
//!
//! ```
//! use axum::{Router, routing::get};
//! use strata_metrics::MetricsLayer;
//! use tower::ServiceExt;
//!
//! # #[cfg(not(feature = "axum"))] fn main() {}
//! # #[cfg(feature = "axum")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (metrics, handle) = MetricsLayer::builder().build_info("1.2.3", "abc1234").pair()?;
//! let app = Router::new()
//!     .route("/users/{id}", get(|| async { "a user" }))
//!     .route_service("/metrics", handle.exporter())
//!     .layer(metrics);
//!
//! let response = app.clone().oneshot(strata_testkit::get("/users/42")).await?;
//! assert_eq!(response.status(), 200);
//! strata_testkit::body_bytes(response.into_body()).await; // the body ends: recorded
//!
//! let response = app.oneshot(strata_testkit::get("/metrics")).await?;
//! assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
//! let text = strata_testkit::body_string(response.into_body()).await;
//! assert!(text.contains(
//!     r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",url_scheme="http"} 1"#
//! ));
//! assert!(text.contains(r#"build_info{commit="abc1234",version="1.2.3"} 1"#));
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `axum`: route templates from axum's `MatchedPath`, and axum's
//!   `ConnectInfo` as the peer address for [`MetricsExporter::allow_ips`].
//! - `process`: [`MetricsBuilder::process_metrics`], the Linux process
//!   collector (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//!   ...).
//!
//! # Cardinality and memory
//!
//! Each HTTP histogram holds at most [`max_series`](MetricsBuilder::max_series)
//! label sets (default [`DEFAULT_MAX_SERIES`]); requests beyond are recorded
//! in one series labelled `otel_metric_overflow="true"`, so no input grows
//! memory without bound. A label set costs about 5 KiB for its three
//! histograms (measured), so the default cap bounds the layer near 5 MiB,
//! plus a lookup cache of at most `4 × max_series + 64` entries. Series are found by
//! their full label values (no two label sets share one, whatever their
//! text), and a request whose route string is stable (axum's `MatchedPath`, a
//! `&'static str`) finds its series by the string's address and a compare,
//! without hashing label strings.
//!
//! # Registries
//!
//! The layer registers into the [`prometheus::Registry`] you give
//! ([`MetricsBuilder::registry`]) or a new one; nothing is global, so two
//! apps or two tests in one process see their own metrics. Get the registry
//! from [`MetricsHandle::registry`] to register other collectors into it.
//!
//! # Deployment
//!
//! Apply the layer with axum's `Router::layer` (not around the router as a
//! service): only then has axum stored `MatchedPath` when the layer runs.
//! Guard `/metrics` when the service is reachable from outside
//! ([`MetricsExporter::allow_ips`], [`MetricsExporter::bearer_token`]).
//! `docs/ops/` holds a Grafana dashboard and alert rules for these metrics.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod body;
mod error;
mod exporter;
mod future;
mod handle;
mod labels;
mod layer;
mod recorder;
mod series;
mod service;
#[cfg(test)]
mod tests;

#[doc(inline)]
pub use self::app::{
    CacheCounters, CacheMetrics, CounterFamily, DB_DURATION_BUCKETS, DbMetrics, DbTimer,
};
#[doc(inline)]
pub use self::body::MetricsBody;
#[doc(inline)]
pub use self::error::MetricsError;
#[doc(inline)]
pub use self::exporter::{ExporterRejection, MetricsExporter, TEXT_CONTENT_TYPE};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::handle::MetricsHandle;
#[doc(inline)]
pub use self::labels::RouteClassifier;
#[doc(inline)]
pub use self::layer::{
    DEFAULT_MAX_SERIES, DURATION_BUCKETS, MetricsBuilder, MetricsLayer, SIZE_BUCKETS,
    UNMATCHED_ROUTE,
};
#[doc(inline)]
pub use self::service::Metrics;
/// The `prometheus` crate, for registering your own collectors.
pub use prometheus;
