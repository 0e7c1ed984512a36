//! What the layer shares between requests, and the per-request record that
//! is written once the response body ends.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge, IntGaugeVec};

use crate::labels::{METHODS, Outcome, Route, RouteClassifier, SCHEMES, label_pairs};
use crate::series::SeriesTable;

/// Thresholds of the slow-request log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowRequests {
    pub(crate) warn: Duration,
    pub(crate) error: Duration,
}

/// State shared by every clone of the layer and its services.
pub(crate) struct Shared {
    pub(crate) table: Arc<SeriesTable>,
    pub(crate) active: ActiveRequests,
    pub(crate) classifier: Option<Arc<dyn RouteClassifier>>,
    pub(crate) unmatched: &'static str,
    /// `strata_metrics_requests_without_route_total`.
    pub(crate) unrouted: IntCounter,
    pub(crate) slow: Option<SlowRequests>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("table", &self.table)
            .field("classifier", &self.classifier.is_some())
            .field("unmatched", &self.unmatched)
            .field("slow", &self.slow)
            .finish_non_exhaustive()
    }
}

/// `http_server_active_requests`: one gauge per method and scheme (at most
/// 20 series), resolved once and then only incremented and decremented.
#[derive(Debug)]
pub(crate) struct ActiveRequests {
    vec: IntGaugeVec,
    gauges: [OnceLock<Option<IntGauge>>; METHODS.len() * SCHEMES.len()],
}

impl ActiveRequests {
    pub(crate) fn new(vec: IntGaugeVec) -> Self {
        Self {
            vec,
            gauges: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    fn gauge(&self, method: u8, scheme: u8) -> Option<&IntGauge> {
        let index = usize::from(method) * SCHEMES.len() + usize::from(scheme);
        self.gauges
            .get(index)?
            .get_or_init(|| {
                let method = METHODS.get(usize::from(method))?;
                let scheme = SCHEMES.get(usize::from(scheme))?;
                self.vec
                    .get_metric_with_label_values(&[method, scheme])
                    .ok()
            })
            .as_ref()
    }
}

/// One request in flight. Written to the histograms exactly once: when the
/// response body ends or fails, when the service fails, or when it is
/// dropped (the client hung up).
#[derive(Debug)]
pub(crate) struct Recorder {
    shared: Arc<Shared>,
    start: Instant,
    method: u8,
    scheme: u8,
    route: Route,
    request_size: Option<u64>,
    pub(crate) outcome: Outcome,
    pub(crate) response_size: u64,
    done: bool,
}

impl Recorder {
    pub(crate) fn start(
        shared: Arc<Shared>,
        method: u8,
        scheme: u8,
        route: Route,
        request_size: Option<u64>,
    ) -> Self {
        if let Some(gauge) = shared.active.gauge(method, scheme) {
            gauge.inc();
        }
        Self {
            shared,
            start: Instant::now(),
            method,
            scheme,
            route,
            request_size,
            outcome: Outcome::Cancelled,
            response_size: 0,
            done: false,
        }
    }

    /// Writes the record; later calls do nothing.
    pub(crate) fn finish(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.start.elapsed();
        let shared = &*self.shared;
        if let Some(gauge) = shared.active.gauge(self.method, self.scheme) {
            gauge.dec();
        }
        let response_size = match self.outcome {
            Outcome::Response(_) | Outcome::BodyError(_) => Some(self.response_size),
            Outcome::ServiceError | Outcome::Cancelled => None,
        };
        let packed = self.outcome.pack(self.method, self.scheme);
        shared.table.with_series(&self.route, packed, |series| {
            series.observe(elapsed.as_secs_f64(), self.request_size, response_size);
        });
        if let Some(slow) = shared.slow
            && elapsed >= slow.warn
        {
            self.log_slow(elapsed, slow);
        }
    }

    #[cold]
    fn log_slow(&self, elapsed: Duration, slow: SlowRequests) {
        let labels = label_pairs(self.outcome.pack(self.method, self.scheme), "");
        let label = |name: &str| {
            labels
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("", |(_, v)| v.as_str())
        };
        let method = label("http_request_method");
        let route = self.route.as_str();
        let status = label("http_response_status_code");
        let duration_ms = elapsed.as_millis() as u64;
        if elapsed >= slow.error {
            tracing::error!(method, route, status, duration_ms, "slow request");
        } else {
            tracing::warn!(method, route, status, duration_ms, "slow request");
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.finish();
    }
}
