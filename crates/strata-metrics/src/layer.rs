use std::sync::Arc;
use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{IntGaugeVec, Opts, Registry};
use strata_core::ConfigError;
use tower_layer::Layer;

use crate::handle::MetricsHandle;
use crate::labels::RouteClassifier;
use crate::recorder::{ActiveRequests, Shared, SlowRequests};
use crate::series::{Buckets, HttpCollector, SeriesTable};
use crate::{Metrics, MetricsError};

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
/// [`MetricsLayer::builder`], which also returns the [`MetricsHandle`] that
/// serves `/metrics`.
///
/// Cloning is cheap: every clone records into the same series.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    shared: Arc<Shared>,
}

impl MetricsLayer {
    /// A builder with production defaults.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::new()
    }

    /// A layer with the defaults, recording into a new registry, and its
    /// handle. Same as `MetricsLayer::builder().pair()`.
    pub fn pair() -> Result<(Self, MetricsHandle), MetricsError> {
        MetricsBuilder::new().pair()
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics::new(inner, Arc::clone(&self.shared))
    }
}

/// Settings of a [`MetricsLayer`]; [`pair`](Self::pair) registers the
/// metrics and returns the layer and its handle.
#[derive(Clone)]
#[must_use]
pub struct MetricsBuilder {
    registry: Option<Registry>,
    max_series: usize,
    buckets: Buckets,
    unmatched: &'static str,
    classifier: Option<Arc<dyn RouteClassifier>>,
    slow: Option<SlowRequests>,
    build_info: Option<(String, String)>,
    process: bool,
}

impl std::fmt::Debug for MetricsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsBuilder")
            .field("max_series", &self.max_series)
            .field("buckets", &self.buckets)
            .field("unmatched", &self.unmatched)
            .field("classifier", &self.classifier.is_some())
            .field("slow", &self.slow)
            .field("build_info", &self.build_info)
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsBuilder {
    /// Defaults: a new registry, [`DEFAULT_MAX_SERIES`] series per metric,
    /// [`DURATION_BUCKETS`] and [`SIZE_BUCKETS`], unmatched requests labelled
    /// [`UNMATCHED_ROUTE`], slow requests logged at warn above 2 s and at
    /// error above 5 s, no build info, no process metrics.
    pub fn new() -> Self {
        Self {
            registry: None,
            max_series: DEFAULT_MAX_SERIES,
            buckets: Buckets {
                duration: DURATION_BUCKETS.to_vec(),
                size: SIZE_BUCKETS.to_vec(),
            },
            unmatched: UNMATCHED_ROUTE,
            classifier: None,
            slow: Some(SlowRequests {
                warn: Duration::from_secs(2),
                error: Duration::from_secs(5),
            }),
            build_info: None,
            process: false,
        }
    }

    /// The registry to register into: share one with the other strata
    /// crates and your own collectors, and `/metrics` shows them all.
    /// Default: a new, empty registry (no global state).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The most label sets each HTTP histogram holds. Requests with a label
    /// set beyond the cap are recorded in one overflow series labelled
    /// `otel_metric_overflow="true"`. Between 1 and 100 000.
    pub fn max_series(mut self, max_series: usize) -> Result<Self, ConfigError> {
        if !(1..=100_000).contains(&max_series) {
            return Err(ConfigError::OutOfRange {
                name: "max_series",
                reason: "must be between 1 and 100000",
            });
        }
        self.max_series = max_series;
        Ok(self)
    }

    /// Bucket upper bounds of the duration histogram, in seconds: finite,
    /// non-negative, strictly increasing, 1 to 64 of them (`+Inf` is implied).
    pub fn duration_buckets(mut self, buckets: Vec<f64>) -> Result<Self, ConfigError> {
        self.buckets.duration = check_buckets("duration_buckets", buckets)?;
        Ok(self)
    }

    /// Bucket upper bounds of the body size histograms, in bytes, under the
    /// same rules as [`duration_buckets`](Self::duration_buckets).
    pub fn size_buckets(mut self, buckets: Vec<f64>) -> Result<Self, ConfigError> {
        self.buckets.size = check_buckets("size_buckets", buckets)?;
        Ok(self)
    }

    /// The `http_route` of requests no route matched. Default:
    /// [`UNMATCHED_ROUTE`].
    pub fn unmatched_route(mut self, route: &'static str) -> Self {
        self.unmatched = route;
        self
    }

    /// Names the route of requests that carry no axum `MatchedPath` (see
    /// [`RouteClassifier`]). Default: none, so they get the unmatched value.
    pub fn route_by(mut self, classifier: impl RouteClassifier) -> Self {
        self.classifier = Some(Arc::new(classifier));
        self
    }

    /// Logs requests that took at least `warn` at warn level, and at least
    /// `error` at error level, with method, route, status and duration.
    /// `warn` must not exceed `error`. Default: 2 s and 5 s.
    pub fn slow_requests(mut self, warn: Duration, error: Duration) -> Result<Self, ConfigError> {
        if warn > error || warn.is_zero() {
            return Err(ConfigError::OutOfRange {
                name: "slow_requests",
                reason: "warn must be above zero and not above error",
            });
        }
        self.slow = Some(SlowRequests { warn, error });
        Ok(self)
    }

    /// Logs no slow requests.
    pub fn no_slow_requests(mut self) -> Self {
        self.slow = None;
        self
    }

    /// Registers `build_info{version="..",commit=".."} 1`, so dashboards can
    /// show which build runs where. Default: not registered.
    pub fn build_info(mut self, version: impl Into<String>, commit: impl Into<String>) -> Self {
        self.build_info = Some((version.into(), commit.into()));
        self
    }

    /// Registers the process collector (`process_cpu_seconds_total`,
    /// `process_resident_memory_bytes`, open file descriptors...). Linux
    /// only: elsewhere this registers nothing. Feature `process`.
    #[cfg(feature = "process")]
    pub fn process_metrics(mut self) -> Self {
        self.process = true;
        self
    }

    /// Registers the metrics and returns the layer and its handle.
    ///
    /// Fails when the registry already holds metrics of these names (two
    /// layers on one registry).
    pub fn pair(self) -> Result<(MetricsLayer, MetricsHandle), MetricsError> {
        let registry = self.registry.unwrap_or_default();
        let table = Arc::new(SeriesTable::new(self.buckets, self.max_series)?);
        let active = IntGaugeVec::new(
            Opts::new(
                "http_server_active_requests",
                "Number of HTTP server requests in flight.",
            ),
            &["http_request_method", "url_scheme"],
        )?;
        let mut others: Vec<Box<dyn Collector>> = vec![Box::new(active.clone())];
        if let Some((version, commit)) = self.build_info {
            let gauge = prometheus::IntGauge::with_opts(
                Opts::new("build_info", "Build of the running service; always 1.")
                    .const_label("version", version)
                    .const_label("commit", commit),
            )?;
            gauge.set(1);
            others.push(Box::new(gauge));
        }
        #[cfg(all(feature = "process", target_os = "linux"))]
        if self.process {
            others.push(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ));
        }
        // One registration: on a name clash, nothing of the layer stays.
        registry.register(Box::new(HttpCollector::new(Arc::clone(&table), others)?))?;
        #[cfg(not(all(feature = "process", target_os = "linux")))]
        let _ = self.process;
        let shared = Arc::new(Shared {
            table,
            active: ActiveRequests::new(active),
            classifier: self.classifier,
            unmatched: self.unmatched,
            slow: self.slow,
        });
        Ok((MetricsLayer { shared }, MetricsHandle::new(registry)))
    }
}

fn check_buckets(name: &'static str, buckets: Vec<f64>) -> Result<Vec<f64>, ConfigError> {
    let valid = (1..=64).contains(&buckets.len())
        && buckets.iter().all(|b| b.is_finite() && *b >= 0.0)
        && buckets.windows(2).all(|w| w[0] < w[1]);
    if valid {
        Ok(buckets)
    } else {
        Err(ConfigError::OutOfRange {
            name,
            reason: "1 to 64 finite, non-negative, strictly increasing bounds",
        })
    }
}
