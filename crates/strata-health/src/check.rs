use std::fmt;
use std::future::Future;
use std::pin::Pin;

use strata_core::ConfigError;
use tokio::time::Instant;

use crate::{IntoObservation, Observation};

/// One health check: a dependency or resource the service relies on.
///
/// A check only observes; timeouts, caching, concurrency and criticality are
/// applied around it by the [`HealthLayer`](crate::HealthLayer). Implement it
/// with an `async fn`, or use [`check_fn`] for a closure.
///
/// ```
/// use strata_health::{Check, Observation};
///
/// struct QueueDepth;
///
/// impl Check for QueueDepth {
///     async fn check(&self) -> Observation {
///         let depth = 12; // ask the queue
///         let observation = if depth < 1000 {
///             Observation::pass()
///         } else {
///             Observation::warn("backlog")
///         };
///         observation.observed(depth, "messages")
///     }
///
///     fn measurement(&self) -> Option<&str> {
///         Some("depth")
///     }
///
///     fn component_type(&self) -> Option<&str> {
///         Some("component")
///     }
/// }
/// ```
pub trait Check: Send + Sync + 'static {
    /// Runs the check once. It may take as long as it likes: the layer fails
    /// it at its timeout and drops the future.
    fn check(&self) -> impl Future<Output = Observation> + Send;

    /// The measurement, the part after the colon of the report key
    /// `component:measurement` (`responseTime`, `utilization`...). Default:
    /// none, so the key is the component name alone.
    fn measurement(&self) -> Option<&str> {
        None
    }

    /// The `componentType` member: `datastore`, `system`, `component`, or a
    /// URI. Default: none.
    fn component_type(&self) -> Option<&str> {
        None
    }

    /// Whether the check's own settings are usable; called by
    /// [`HealthBuilder::build`](crate::HealthBuilder::build), which fails
    /// with the error, so a misconfigured check is refused at start rather
    /// than failing every run. Default: `Ok(())`.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

pub(crate) type BoxObservation<'a> = Pin<Box<dyn Future<Output = Observation> + Send + 'a>>;

/// [`Check`] made object safe.
pub(crate) trait DynCheck: Send + Sync + 'static {
    fn run(&self) -> BoxObservation<'_>;
    fn measurement(&self) -> Option<&str>;
    fn component_type(&self) -> Option<&str>;
    fn validate(&self) -> Result<(), ConfigError>;
}

impl<C: Check> DynCheck for C {
    fn run(&self) -> BoxObservation<'_> {
        Box::pin(self.check())
    }

    fn measurement(&self) -> Option<&str> {
        Check::measurement(self)
    }

    fn component_type(&self) -> Option<&str> {
        Check::component_type(self)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        Check::validate(self)
    }
}

/// A check from a closure: the application's own dependencies, such as a
/// database `SELECT 1`.
///
/// The closure returns a future of anything [`IntoObservation`]: an
/// [`Observation`], a [`Status`](crate::Status), `()`, `bool`, or a `Result`
/// whose error becomes the `fail` output. When the closure reports no observed
/// value, the time it took is reported in milliseconds. The report key is
/// `{component}:responseTime`; a closure reporting a value of its own names
/// it with [`Registration::measurement`](crate::Registration::measurement).
///
/// ```
/// use strata_health::{Check, Status, check_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let database = check_fn(|| async {
///     // sqlx::query("SELECT 1").execute(&pool).await.map(|_| ())
///     Err::<(), _>("connection refused")
/// });
/// let observation = database.check().await;
/// assert_eq!(observation.status(), Status::Fail);
/// assert_eq!(observation.get_output(), Some("connection refused"));
/// assert_eq!(observation.observed_unit(), Some("ms"));
/// # }
/// ```
pub fn check_fn<F, Fut>(f: F) -> FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send,
    Fut::Output: IntoObservation,
{
    FnCheck { f }
}

/// The check built by [`check_fn`].
#[derive(Clone)]
pub struct FnCheck<F> {
    f: F,
}

impl<F> fmt::Debug for FnCheck<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnCheck").finish_non_exhaustive()
    }
}

impl<F, Fut> Check for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send,
    Fut::Output: IntoObservation,
{
    async fn check(&self) -> Observation {
        let started = Instant::now();
        let observation = (self.f)().await.into_observation();
        if observation.has_observed_value() {
            observation
        } else {
            observation.observed(millis(started.elapsed()), "ms")
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("responseTime")
    }
}

/// A duration in milliseconds with microsecond precision, for `observedValue`.
pub(crate) fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
