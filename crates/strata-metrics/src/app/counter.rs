use std::sync::Arc;

use prometheus::{IntCounter, Opts, Registry, proto};

use super::family::{Family, Registered};
use crate::MetricsError;

/// A counter of your own with labels, bounded like the HTTP metrics: at most
/// `max_series` label sets, then an overflow series labelled
/// `otel_metric_overflow="true"`. Label sets are kept apart by their full
/// values (`["a", "bc"]` and `["ab", "c"]` are two series).
///
/// For a counter without labels, register a [`prometheus::IntCounter`]
/// into the handle's registry directly.
///
/// ```
/// use strata_metrics::{CounterFamily, MetricsLayer};
///
/// # fn main() -> Result<(), strata_metrics::MetricsError> {
/// let (_layer, handle) = MetricsLayer::pair()?;
/// let signups = CounterFamily::register(
///     handle.registry(),
///     "app_signups_total",
///     "Accounts created, by plan.",
///     &["plan"],
///     10,
/// )?;
/// signups.inc(&["free"]);
/// signups.inc_by(&["pro"], 2);
///
/// let text = handle.render();
/// assert!(text.contains(r#"app_signups_total{plan="free"} 1"#));
/// assert!(text.contains(r#"app_signups_total{plan="pro"} 2"#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CounterFamily {
    family: Arc<Family<IntCounter>>,
}

impl CounterFamily {
    /// Registers the counter `name` with `labels` into `registry`. Fails on
    /// an invalid or already registered name, or a `max_series` outside
    /// 1 to 100 000.
    pub fn register(
        registry: &Registry,
        name: &str,
        help: &str,
        labels: &[&'static str],
        max_series: usize,
    ) -> Result<Self, MetricsError> {
        if !(1..=100_000).contains(&max_series) {
            return Err(strata_core::ConfigError::OutOfRange {
                name: "max_series",
                reason: "must be between 1 and 100000",
            }
            .into());
        }
        let (name_owned, help_owned) = (name.to_owned(), help.to_owned());
        let make = move |labels: &[(&str, &str)]| {
            let mut opts = Opts::new(name_owned.clone(), help_owned.clone());
            for (label, value) in labels {
                opts = opts.const_label(*label, *value);
            }
            IntCounter::with_opts(opts)
        };
        let family = Arc::new(Family::new(
            name,
            help,
            proto::MetricType::COUNTER,
            labels.to_vec(),
            max_series,
            Box::new(make),
        )?);
        registry.register(Box::new(Registered(Arc::clone(&family))))?;
        Ok(Self { family })
    }

    /// Adds one to the series of `values` (one per label, in order).
    pub fn inc(&self, values: &[&str]) {
        self.inc_by(values, 1);
    }

    /// Adds `n` to the series of `values`.
    pub fn inc_by(&self, values: &[&str], n: u64) {
        self.family.get(values).inc_by(n);
    }

    /// The counter of `values`, resolved once for a hot path.
    pub fn counter(&self, values: &[&str]) -> IntCounter {
        self.family.get(values)
    }
}
