#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod body;
mod config;
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
pub use self::config::MetricsBuilder;
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
    DEFAULT_MAX_SERIES, DURATION_BUCKETS, MetricsLayer, SIZE_BUCKETS, UNMATCHED_ROUTE,
};
#[doc(inline)]
pub use self::service::Metrics;
/// The `prometheus` crate, for registering your own collectors.
pub use prometheus;
