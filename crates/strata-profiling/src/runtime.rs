//! `GET /debug/runtime`: tokio runtime metrics as JSON.

use std::sync::Mutex;

use serde_json::{Value, json};
use tokio_metrics::{RuntimeIntervals, RuntimeMonitor};

/// The runtime's metrics since the previous request (the first covers the
/// time since the first request reached this service).
#[derive(Default)]
pub(crate) struct RuntimeReport {
    intervals: Mutex<Option<RuntimeIntervals>>,
}

impl RuntimeReport {
    /// The next interval, as JSON; `None` outside a tokio runtime.
    pub(crate) fn next(&self) -> Option<Value> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let mut intervals = self
            .intervals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let intervals = intervals.get_or_insert_with(|| RuntimeMonitor::new(&handle).intervals());
        let m = intervals.next()?;
        let elapsed = m.elapsed.as_secs_f64();
        let capacity = elapsed * m.workers_count as f64;
        let busy_ratio = if capacity > 0.0 {
            m.total_busy_duration.as_secs_f64() / capacity
        } else {
            0.0
        };
        Some(json!({
            "interval_seconds": elapsed,
            "workers": m.workers_count,
            "live_tasks": m.live_tasks_count,
            "global_queue_depth": m.global_queue_depth,
            "busy_ratio": busy_ratio,
            "busy_seconds": {
                "total": m.total_busy_duration.as_secs_f64(),
                "max_worker": m.max_busy_duration.as_secs_f64(),
                "min_worker": m.min_busy_duration.as_secs_f64(),
            },
            "parks": {
                "total": m.total_park_count,
                "max_worker": m.max_park_count,
                "min_worker": m.min_park_count,
            },
        }))
    }
}
