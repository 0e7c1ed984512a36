use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;

/// What a health route answers.
///
/// | endpoint | checks run | HTTP status | body |
/// |---|---|---|---|
/// | [`Summary`](Self::Summary) | all | worst status | status and service fields |
/// | [`Live`](Self::Live) | none: the process answers | always 200 | `pass` |
/// | [`Ready`](Self::Ready) | critical ones | 503 when one fails or while draining | status |
/// | [`Detailed`](Self::Detailed) | all | worst status | every check and the system section (when details are shown) |
/// | [`Group`](Self::Group) | those with one of the group's tags | worst status | the group's checks (when details are shown) |
///
/// A failing non-critical check counts as `warn` in every aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// The service's status without details.
    Summary,
    /// Liveness: the process is up. Never runs a check, so a dependency
    /// outage never restarts the service.
    Live,
    /// Readiness: critical checks pass and the service is not draining.
    Ready,
    /// Every check with its details.
    Detailed,
    /// A named group (see [`HealthBuilder::group`](crate::HealthBuilder::group)).
    Group(Cow<'static, str>),
}

impl Endpoint {
    /// The group `name`.
    pub fn group(name: impl Into<Cow<'static, str>>) -> Self {
        Endpoint::Group(name.into())
    }
}

/// Who sees check details (outputs, observed values, the system section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShowDetails {
    /// Everyone (the default: put the endpoints on an internal port, or
    /// restrict them).
    Always,
    /// No one: detailed and group endpoints answer like the summary.
    Never,
}

pub(crate) type DetailsPredicate = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

#[derive(Clone)]
pub(crate) enum Details {
    Always,
    Never,
    When(DetailsPredicate),
}

impl Details {
    pub(crate) fn allows(&self, parts: &Parts) -> bool {
        match self {
            Details::Always => true,
            Details::Never => false,
            Details::When(predicate) => predicate(parts),
        }
    }
}

impl From<ShowDetails> for Details {
    fn from(show: ShowDetails) -> Self {
        match show {
            ShowDetails::Always => Details::Always,
            ShowDetails::Never => Details::Never,
        }
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Details::Always => f.write_str("Always"),
            Details::Never => f.write_str("Never"),
            Details::When(_) => f.write_str("When(..)"),
        }
    }
}
