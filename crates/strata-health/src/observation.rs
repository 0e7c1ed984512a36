use std::borrow::Cow;
use std::fmt::Display;

use serde::Serialize;
use serde_json::Value;

use crate::Status;

/// What one run of a [`Check`](crate::Check) found: a [`Status`], optionally
/// an observed value with its unit, and an output message.
///
/// These become the `status`, `observedValue`, `observedUnit` and `output`
/// members of the check's entry in a detailed report.
///
/// ```
/// use strata_health::{Observation, Status};
///
/// let slow = Observation::warn("replica lag above 5 s").observed(7.2, "s");
/// assert_eq!(slow.status(), Status::Warn);
/// assert_eq!(slow.observed_value(), Some(&serde_json::json!(7.2)));
/// assert_eq!(slow.observed_unit(), Some("s"));
/// assert_eq!(slow.get_output(), Some("replica lag above 5 s"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    status: Status,
    observed_value: Option<Value>,
    observed_unit: Option<Cow<'static, str>>,
    output: Option<String>,
}

impl Observation {
    /// An observation with this status and nothing else.
    pub fn new(status: Status) -> Self {
        Self {
            status,
            observed_value: None,
            observed_unit: None,
            output: None,
        }
    }

    /// `pass`.
    pub fn pass() -> Self {
        Self::new(Status::Pass)
    }

    /// `warn`, with an output message saying why.
    pub fn warn(output: impl Into<String>) -> Self {
        Self::new(Status::Warn).output(output)
    }

    /// `fail`, with an output message saying why.
    pub fn fail(output: impl Into<String>) -> Self {
        Self::new(Status::Fail).output(output)
    }

    /// Sets the observed value and its unit (`"ms"`, `"percent"`, `"bytes"`...).
    /// A value that cannot be represented as JSON is stored as `null`.
    #[must_use]
    pub fn observed(mut self, value: impl Serialize, unit: impl Into<Cow<'static, str>>) -> Self {
        self.observed_value = Some(serde_json::to_value(value).unwrap_or(Value::Null));
        self.observed_unit = Some(unit.into());
        self
    }

    /// Sets the output message (for `warn` and `fail`: what went wrong).
    #[must_use]
    pub fn output(mut self, output: impl Into<String>) -> Self {
        self.output = Some(output.into());
        self
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The observed value, if any.
    pub fn observed_value(&self) -> Option<&Value> {
        self.observed_value.as_ref()
    }

    /// The unit of the observed value, if any.
    pub fn observed_unit(&self) -> Option<&str> {
        self.observed_unit.as_deref()
    }

    /// The output message, if any.
    pub fn get_output(&self) -> Option<&str> {
        self.output.as_deref()
    }

    pub(crate) fn has_observed_value(&self) -> bool {
        self.observed_value.is_some()
    }
}

/// Anything a check closure may return (see [`check_fn`](crate::check_fn)).
///
/// - [`Observation`] and [`Status`] as they are; `()` and `true` are `pass`,
///   `false` is `fail`;
/// - `Result<T, E>`: `Ok(t)` as `t`, `Err(e)` is `fail` with `e` as output.
pub trait IntoObservation {
    /// The observation.
    fn into_observation(self) -> Observation;
}

impl IntoObservation for Observation {
    fn into_observation(self) -> Observation {
        self
    }
}

impl IntoObservation for Status {
    fn into_observation(self) -> Observation {
        Observation::new(self)
    }
}

impl IntoObservation for () {
    fn into_observation(self) -> Observation {
        Observation::pass()
    }
}

impl IntoObservation for bool {
    fn into_observation(self) -> Observation {
        if self {
            Observation::pass()
        } else {
            Observation::new(Status::Fail)
        }
    }
}

impl<T: IntoObservation, E: Display> IntoObservation for Result<T, E> {
    fn into_observation(self) -> Observation {
        match self {
            Ok(value) => value.into_observation(),
            Err(error) => Observation::fail(error.to_string()),
        }
    }
}
