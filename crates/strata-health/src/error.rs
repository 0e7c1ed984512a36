/// Invalid health configuration, reported by
/// [`HealthBuilder::build`](crate::HealthBuilder::build) and
/// [`pair`](crate::HealthBuilder::pair), never on a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two checks report under the same `component:measurement` key.
    #[error("two checks report under the key `{key}`: give one another component name")]
    DuplicateCheck {
        /// The key.
        key: String,
    },
    /// A route serves a group that was never defined.
    #[error("the route `{path}` serves the undefined group `{group}`")]
    UnknownGroup {
        /// The route's path.
        path: String,
        /// The group's name.
        group: String,
    },
    /// A route path does not start with `/`.
    #[error("invalid route path `{path}`: it must start with `/`")]
    InvalidPath {
        /// The path as given.
        path: String,
    },
    /// A setting is outside the range it accepts.
    #[error("invalid `{name}`: {reason}")]
    OutOfRange {
        /// The setting's name.
        name: &'static str,
        /// The accepted range.
        reason: &'static str,
    },
    /// The URL given to an `HttpCheck` (feature `http-check`) cannot be used.
    #[error("invalid check URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The metrics could not be registered (a collector of the same name is
    /// already in the registry).
    #[cfg(feature = "prometheus")]
    #[error("cannot register the health metrics: {source}")]
    Metrics {
        /// The error `prometheus` reported.
        #[source]
        source: prometheus::Error,
    },
}
