//! Settings of the metrics layer and the one place they are checked.

use std::sync::Arc;
use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{IntCounter, IntGaugeVec, Opts, Registry};
use strata_core::ConfigError;

use crate::handle::MetricsHandle;
use crate::labels::RouteClassifier;
use crate::layer::{
    DEFAULT_MAX_SERIES, DURATION_BUCKETS, MetricsLayer, SIZE_BUCKETS, UNMATCHED_ROUTE,
};
use crate::recorder::{ActiveRequests, Shared, SlowRequests};
use crate::series::{Buckets, HttpCollector, SeriesTable};

/// Name of the counter of requests that carried no route template.
pub(crate) const UNROUTED: &str = "strata_metrics_requests_without_route_total";

/// Settings of a [`MetricsLayer`]. Setters only record; [`build`](Self::build)
/// and [`pair`](Self::pair) check them, report the first invalid one by
/// name, and register the metrics.
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
            .field("registry", &self.registry.is_some())
            .field("max_series", &self.max_series)
            .field("buckets", &self.buckets)
            .field("unmatched", &self.unmatched)
            .field("classifier", &self.classifier.is_some())
            .field("slow", &self.slow)
            .field("build_info", &self.build_info)
            .field("process", &self.process)
            .finish()
    }
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsBuilder {
    /// Defaults: a new registry (for [`pair`](Self::pair)),
    /// [`DEFAULT_MAX_SERIES`] series per metric, [`DURATION_BUCKETS`] and
    /// [`SIZE_BUCKETS`], unmatched requests labelled [`UNMATCHED_ROUTE`],
    /// slow requests logged at warn above 2 s and at error above 5 s, no
    /// build info, no process metrics.
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
    /// `Registry` is a handle; the layer keeps a clone. Required by
    /// [`build`](Self::build); [`pair`](Self::pair) makes a new one without it.
    pub fn registry(mut self, registry: &Registry) -> Self {
        self.registry = Some(registry.clone());
        self
    }

    /// The most label sets each HTTP histogram holds. Requests with a label
    /// set beyond the cap are recorded in one overflow series labelled
    /// `otel_metric_overflow="true"`. Between 1 and 100 000.
    pub fn max_series(mut self, max_series: usize) -> Self {
        self.max_series = max_series;
        self
    }

    /// Bucket upper bounds of the duration histogram, in seconds: finite,
    /// non-negative, strictly increasing, 1 to 64 of them (`+Inf` is implied).
    pub fn duration_buckets(mut self, buckets: Vec<f64>) -> Self {
        self.buckets.duration = buckets;
        self
    }

    /// Bucket upper bounds of the body size histograms, in bytes, under the
    /// same rules as [`duration_buckets`](Self::duration_buckets).
    pub fn size_buckets(mut self, buckets: Vec<f64>) -> Self {
        self.buckets.size = buckets;
        self
    }

    /// The `http_route` of requests no route matched. Default:
    /// [`UNMATCHED_ROUTE`].
    pub fn unmatched_route(mut self, route: &'static str) -> Self {
        self.unmatched = route;
        self
    }

    /// Names the route of requests that carry no axum `MatchedPath` (see
    /// [`RouteClassifier`]). Default: none, so they get the unmatched value,
    /// and are counted in `strata_metrics_requests_without_route_total`
    /// (the first one logs a warning).
    pub fn route_by(mut self, classifier: impl RouteClassifier) -> Self {
        self.classifier = Some(Arc::new(classifier));
        self
    }

    /// Logs requests that took at least `warn` at warn level, and at least
    /// `error` at error level, with method, route, status and duration.
    /// `warn` must be above zero and not above `error`. Default: 2 s and 5 s.
    pub fn slow_requests(mut self, warn: Duration, error: Duration) -> Self {
        self.slow = Some(SlowRequests { warn, error });
        self
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

    /// Checks the settings and registers the metrics into the
    /// [`registry`](Self::registry), which is required here (without it,
    /// nothing could read what the layer records: use [`pair`](Self::pair)).
    ///
    /// Fails with [`ConfigError::Invalid`] naming the first invalid setting,
    /// or [`ConfigError::Registry`] when the registry already holds metrics
    /// of these names (two layers on one registry); then nothing of this
    /// layer stays registered.
    pub fn build(self) -> Result<MetricsLayer, ConfigError> {
        if self.registry.is_none() {
            return Err(ConfigError::invalid(
                "registry",
                "build() records into the registry you give: set registry(&registry), or call pair()",
            ));
        }
        self.pair().map(|(layer, _)| layer)
    }

    /// [`build`](Self::build), into a new registry unless one was set, and
    /// the [`MetricsHandle`] of that registry.
    pub fn pair(self) -> Result<(MetricsLayer, MetricsHandle), ConfigError> {
        self.validate()?;
        let registry = self.registry.unwrap_or_default();
        let table = Arc::new(
            SeriesTable::new(self.buckets, self.max_series).map_err(ConfigError::Registry)?,
        );
        let active = IntGaugeVec::new(
            Opts::new(
                "http_server_active_requests",
                "Number of HTTP server requests in flight.",
            ),
            &["http_request_method", "url_scheme"],
        )
        .map_err(ConfigError::Registry)?;
        let unrouted = IntCounter::new(
            UNROUTED,
            "Requests recorded as unmatched because they carried no route template: \
             no axum MatchedPath and no route_by classifier.",
        )
        .map_err(ConfigError::Registry)?;
        let mut others: Vec<Box<dyn Collector>> =
            vec![Box::new(active.clone()), Box::new(unrouted.clone())];
        if let Some((version, commit)) = self.build_info {
            let gauge = prometheus::IntGauge::with_opts(
                Opts::new("build_info", "Build of the running service; always 1.")
                    .const_label("version", version)
                    .const_label("commit", commit),
            )
            .map_err(ConfigError::Registry)?;
            gauge.set(1);
            others.push(Box::new(gauge));
        }
        #[cfg(all(feature = "process", target_os = "linux"))]
        if self.process {
            others.push(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ));
        }
        #[cfg(not(all(feature = "process", target_os = "linux")))]
        let _ = self.process;
        let collector =
            HttpCollector::new(Arc::clone(&table), others).map_err(ConfigError::Registry)?;
        // One registration: on a name clash, nothing of the layer stays.
        registry
            .register(Box::new(collector))
            .map_err(ConfigError::Registry)?;
        let shared = Arc::new(Shared {
            table,
            active: ActiveRequests::new(active),
            classifier: self.classifier,
            unmatched: self.unmatched,
            unrouted,
            slow: self.slow,
        });
        Ok((MetricsLayer { shared }, MetricsHandle::new(registry)))
    }

    /// The first invalid setting, in the order of the setters above.
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=100_000).contains(&self.max_series) {
            return Err(ConfigError::invalid(
                "max_series",
                "must be between 1 and 100000",
            ));
        }
        check_buckets("duration_buckets", &self.buckets.duration)?;
        check_buckets("size_buckets", &self.buckets.size)?;
        if let Some(slow) = self.slow
            && (slow.warn > slow.error || slow.warn.is_zero())
        {
            return Err(ConfigError::invalid(
                "slow_requests",
                "warn must be above zero and not above error",
            ));
        }
        Ok(())
    }
}

fn check_buckets(setting: &'static str, buckets: &[f64]) -> Result<(), ConfigError> {
    let valid = (1..=64).contains(&buckets.len())
        && buckets.iter().all(|b| b.is_finite() && *b >= 0.0)
        && buckets.windows(2).all(|w| w[0] < w[1]);
    if valid {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            setting,
            "1 to 64 finite, non-negative, strictly increasing bounds",
        ))
    }
}
