use std::sync::Arc;

use prometheus::{IntCounter, Opts, Registry, proto};

use super::family::{Family, Registered};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

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
/// # fn main() -> Result<(), strata_core::ConfigError> {
/// let (_layer, handle) = MetricsLayer::builder().pair()?;
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
    /// Registers the counter `name` with `labels` into `registry`.
    ///
    /// Fails with [`ConfigError::Invalid`] for an invalid `name` or label
    /// name (`labels`), or a `max_series` outside 1 to 100 000, and with
    /// [`ConfigError::Registry`] when the name is already registered.
    pub fn register(
        registry: &Registry,
        name: &str,
        help: &str,
        labels: &[&'static str],
        max_series: usize,
    ) -> Result<Self, ConfigError> {
        if !is_metric_name(name) {
            return Err(ConfigError::invalid(
                "name",
                "a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*",
            ));
        }
        if let Some(label) = labels.iter().find(|label| !is_label_name(label)) {
            return Err(ConfigError::invalid(
                "labels",
                format!(
                    "`{label}`: a label name matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with __"
                ),
            ));
        }
        if !(1..=100_000).contains(&max_series) {
            return Err(ConfigError::invalid(
                "max_series",
                "must be between 1 and 100000",
            ));
        }
        let (name_owned, help_owned) = (name.to_owned(), help.to_owned());
        let make = move |labels: &[(&str, &str)]| {
            let mut opts = Opts::new(name_owned.clone(), help_owned.clone());
            for (label, value) in labels {
                opts = opts.const_label(*label, *value);
            }
            IntCounter::with_opts(opts)
        };
        let family = register_all(registry, |r| {
            let family = Arc::new(Family::new(
                name,
                help,
                proto::MetricType::COUNTER,
                labels.to_vec(),
                max_series,
                Box::new(make),
            )?);
            r.register(Registered(Arc::clone(&family)))?;
            Ok(family)
        })?;
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

/// Prometheus' rule for metric names.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus' rule for label names (`__` is reserved).
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
