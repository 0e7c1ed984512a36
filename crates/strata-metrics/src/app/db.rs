use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{Histogram, HistogramOpts, Registry, proto};

use super::family::{Family, Registered};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

/// Bucket bounds of `db_client_operation_duration_seconds`: the ones the
/// OpenTelemetry database semantic conventions advise, in seconds.
pub const DB_DURATION_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

const NAME: &str = "db_client_operation_duration_seconds";

/// `db_client_operation_duration_seconds{db_system_name, db_operation_name}`,
/// with `error_type` on failed operations: how long database calls take.
///
/// Name operations by a fixed set (`select_user`, `insert_order`), never by
/// the query text; at most 500 label sets are kept, the rest go to an
/// overflow series.
///
/// ```
/// use strata_metrics::{DbMetrics, MetricsLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (_layer, handle) = MetricsLayer::builder().pair()?;
/// let db = DbMetrics::register(handle.registry(), "postgresql")?;
///
/// // Time a future returning a Result: an `Err` is labelled `error_type="_OTHER"`.
/// let rows = db.time("select_user", async { Ok::<_, std::io::Error>(3) }).await?;
/// assert_eq!(rows, 3);
///
/// // Or hold a timer: recorded when finished or dropped.
/// let timer = db.start("insert_order");
/// timer.fail("timeout");
///
/// let text = handle.render();
/// assert!(text.contains(r#"db_client_operation_duration_seconds_count{db_operation_name="select_user",db_system_name="postgresql"} 1"#));
/// assert!(text.contains(r#"db_client_operation_duration_seconds_count{db_operation_name="insert_order",db_system_name="postgresql",error_type="timeout"} 1"#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DbMetrics {
    family: Arc<Family<Histogram>>,
    system: Arc<str>,
}

impl DbMetrics {
    /// Registers the histogram into `registry` for the database `system`
    /// (`postgresql`, `mysql`, `redis`, ...). Fails if it is already there:
    /// register once and clone the result.
    pub fn register(registry: &Registry, system: impl Into<String>) -> Result<Self, ConfigError> {
        let make = |labels: &[(&str, &str)]| {
            let mut opts = HistogramOpts::new(NAME, HELP).buckets(DB_DURATION_BUCKETS.to_vec());
            for (name, value) in labels {
                opts = opts.const_label(*name, *value);
            }
            Histogram::with_opts(opts)
        };
        let family = register_all(registry, |r| {
            let family = Arc::new(Family::new(
                NAME,
                HELP,
                proto::MetricType::HISTOGRAM,
                vec!["db_system_name", "db_operation_name", "error_type"],
                500,
                Box::new(make),
            )?);
            r.register(Registered(Arc::clone(&family)))?;
            Ok(family)
        })?;
        Ok(Self {
            family,
            system: Arc::from(system.into()),
        })
    }

    /// Records one operation that took `duration`; `error_type` names the
    /// failure (a fixed set such as `timeout`, `constraint`), `None` on success.
    pub fn observe(&self, operation: &str, duration: Duration, error_type: Option<&str>) {
        let histogram = match error_type {
            None => self.family.get(&[&self.system, operation]),
            Some(error) => self.family.get(&[&self.system, operation, error]),
        };
        histogram.observe(duration.as_secs_f64());
    }

    /// Starts timing `operation`.
    pub fn start(&self, operation: impl Into<Cow<'static, str>>) -> DbTimer {
        DbTimer {
            metrics: self.clone(),
            operation: operation.into(),
            start: Instant::now(),
            done: false,
        }
    }

    /// Runs `future` and records its duration, with `error_type="_OTHER"`
    /// when it returns `Err`.
    pub async fn time<T, E>(
        &self,
        operation: impl Into<Cow<'static, str>>,
        future: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let timer = self.start(operation);
        let result = future.await;
        match &result {
            Ok(_) => timer.finish(),
            Err(_) => timer.fail("_OTHER"),
        }
        result
    }
}

const HELP: &str = "Duration of database client operations.";

/// A running [`DbMetrics`] measurement: recorded as a success by
/// [`finish`](Self::finish) or when dropped, as a failure by
/// [`fail`](Self::fail).
#[derive(Debug)]
#[must_use = "the operation is recorded when the timer is finished or dropped"]
pub struct DbTimer {
    metrics: DbMetrics,
    operation: Cow<'static, str>,
    start: Instant,
    done: bool,
}

impl DbTimer {
    /// Records the operation as a success.
    pub fn finish(mut self) {
        self.record(None);
    }

    /// Records the operation as failed with `error_type`.
    pub fn fail(mut self, error_type: &str) {
        self.record(Some(error_type));
    }

    fn record(&mut self, error_type: Option<&str>) {
        if !std::mem::replace(&mut self.done, true) {
            let elapsed = self.start.elapsed();
            self.metrics.observe(&self.operation, elapsed, error_type);
        }
    }
}

impl Drop for DbTimer {
    fn drop(&mut self) {
        self.record(None);
    }
}
