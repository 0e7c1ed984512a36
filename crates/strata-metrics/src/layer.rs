use std::sync::Arc;

use tower_layer::Layer;

use crate::Metrics;
use crate::config::MetricsBuilder;
use crate::recorder::Shared;

/// Bucket bounds of `http_server_request_duration_seconds`: the ones the
/// OpenTelemetry HTTP semantic conventions advise, in seconds.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Bucket bounds of the request and response body size histograms, in bytes:
/// decades from 100 B to 100 MB.
pub const SIZE_BUCKETS: [f64; 7] = [
    100.0,
    1_000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    10_000_000.0,
    100_000_000.0,
];

/// Default of [`MetricsBuilder::max_series`].
pub const DEFAULT_MAX_SERIES: usize = 1_000;

/// Default of [`MetricsBuilder::unmatched_route`].
pub const UNMATCHED_ROUTE: &str = "_UNMATCHED";

/// Records RED metrics for every request of the service it wraps; built by
/// [`MetricsLayer::builder`]: [`build`](MetricsBuilder::build) records into
/// the registry you give, [`pair`](MetricsBuilder::pair) also returns the
/// [`MetricsHandle`](crate::MetricsHandle) that serves `/metrics`.
///
/// Cloning is cheap: every clone records into the same series.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    pub(crate) shared: Arc<Shared>,
}

impl MetricsLayer {
    /// A builder with production defaults (see [`MetricsBuilder::new`]).
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::new()
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics::new(inner, Arc::clone(&self.shared))
    }
}
