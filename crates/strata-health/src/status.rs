use http::StatusCode;
use serde::{Deserialize, Serialize};

/// The health of a check or of a whole service: `pass`, `warn` or `fail`.
///
/// Statuses are ordered by severity, `Pass < Warn < Fail`, and a set of them
/// aggregates to its worst member ([`Status::worst`], [`Status::aggregate`]).
///
/// ```
/// use strata_health::Status;
///
/// assert_eq!(Status::aggregate([Status::Pass, Status::Warn]), Status::Warn);
/// assert_eq!(Status::aggregate([Status::Warn, Status::Fail, Status::Pass]), Status::Fail);
/// assert_eq!(Status::aggregate([]), Status::Pass);
/// assert_eq!(Status::Warn.http_status(), 200);
/// assert_eq!(Status::Fail.http_status(), 503);
/// assert_eq!(serde_json::to_string(&Status::Fail)?, r#""fail""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Healthy.
    Pass,
    /// Healthy, with a concern (a degraded or non-critical dependency).
    Warn,
    /// Unhealthy.
    Fail,
}

impl Status {
    /// All statuses, least severe first.
    pub const ALL: [Status; 3] = [Status::Pass, Status::Warn, Status::Fail];

    /// The more severe of `self` and `other`.
    #[must_use]
    pub fn worst(self, other: Status) -> Status {
        self.max(other)
    }

    /// The worst status of `statuses`; `Pass` when there are none.
    pub fn aggregate(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().fold(Status::Pass, Status::worst)
    }

    /// The HTTP status a probe answers with: 200 for `pass` and `warn`, 503
    /// for `fail`.
    pub fn http_status(self) -> StatusCode {
        match self {
            Status::Pass | Status::Warn => StatusCode::OK,
            Status::Fail => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// `"pass"`, `"warn"` or `"fail"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
