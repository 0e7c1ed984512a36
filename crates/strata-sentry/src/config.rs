//! Settings and the builder of [`SentryLayer`](crate::SentryLayer).

use std::borrow::Cow;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use http::Extensions;
use http::request::Parts;
use sentry::User;
use strata_core::ConfigError;

use crate::context::SentryUser;
use crate::layer::SentryLayer;

/// Default for [`SentryBuilder::capture_status`]: every server error.
pub const DEFAULT_CAPTURE_STATUS: RangeInclusive<u16> = 500..=599;
/// Default for [`SentryBuilder::max_problem_size`]: 16 KiB.
pub const DEFAULT_MAX_PROBLEM_SIZE: usize = 16 * 1024;
/// The largest [`SentryBuilder::max_problem_size`]: 1 MiB.
pub const MAX_PROBLEM_SIZE_LIMIT: usize = 1024 * 1024;
/// The route of a request that neither axum's `MatchedPath` nor the
/// classifier named (the router's fallback, a hyper service).
pub const UNMATCHED: &str = "unmatched";

/// Names a request's route when axum's `MatchedPath` does not (a hyper
/// service, a `nest_service`, the fallback): the classifier strata-metrics
/// takes, so one closure serves both layers.
///
/// Return a **template** (`/users/{id}`), never the raw path. `None` names
/// the route [`UNMATCHED`]. Closures
/// `Fn(&http::request::Parts) -> Option<Cow<'static, str>>` implement it.
pub trait RouteClassifier: Send + Sync + 'static {
    /// The route template of a request, or `None` for unmatched.
    fn classify(&self, parts: &Parts) -> Option<Cow<'static, str>>;
}

impl<F> RouteClassifier for F
where
    F: Fn(&Parts) -> Option<Cow<'static, str>> + Send + Sync + 'static,
{
    fn classify(&self, parts: &Parts) -> Option<Cow<'static, str>> {
        self(parts)
    }
}

type UserFn = dyn Fn(&Extensions) -> Option<User> + Send + Sync;

/// Settings shared by the layer and its services.
pub(crate) struct Settings {
    pub(crate) capture: RangeInclusive<u16>,
    pub(crate) classifier: Option<Arc<dyn RouteClassifier>>,
    pub(crate) user_from: Arc<UserFn>,
    pub(crate) max_problem_size: usize,
}

impl Settings {
    pub(crate) fn captures(&self, status: http::StatusCode) -> bool {
        self.capture.contains(&status.as_u16())
    }

    pub(crate) fn user(&self, extensions: &Extensions) -> Option<User> {
        (self.user_from)(extensions)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("capture", &self.capture)
            .field("classifier", &self.classifier.is_some())
            .field("max_problem_size", &self.max_problem_size)
            .finish_non_exhaustive()
    }
}

fn sentry_user(extensions: &Extensions) -> Option<User> {
    extensions.get::<SentryUser>().map(|user| user.0.clone())
}

/// Builds a [`SentryLayer`]: `SentryLayer::builder()`, setters, then
/// [`build`](Self::build).
#[must_use]
pub struct SentryBuilder {
    capture: RangeInclusive<u16>,
    classifier: Option<Arc<dyn RouteClassifier>>,
    user_from: Arc<UserFn>,
    max_problem_size: usize,
}

impl fmt::Debug for SentryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryBuilder")
            .field("capture", &self.capture)
            .field("classifier", &self.classifier.is_some())
            .field("max_problem_size", &self.max_problem_size)
            .finish_non_exhaustive()
    }
}

impl Default for SentryBuilder {
    fn default() -> Self {
        Self {
            capture: DEFAULT_CAPTURE_STATUS,
            classifier: None,
            user_from: Arc::new(sentry_user),
            max_problem_size: DEFAULT_MAX_PROBLEM_SIZE,
        }
    }
}

impl SentryBuilder {
    /// The response statuses captured as error events (default `500..=599`).
    /// Must lie within `100..=599`. Client errors in the range still meet
    /// the default `before_send` of [`Init`](crate::Init), which drops them:
    /// replace it too to keep them.
    pub fn capture_status(mut self, statuses: RangeInclusive<u16>) -> Self {
        self.capture = statuses;
        self
    }

    /// Names the route of requests that carry no axum `MatchedPath`.
    pub fn route_by(mut self, classifier: impl RouteClassifier) -> Self {
        self.classifier = Some(Arc::new(classifier));
        self
    }

    /// Where the request's user comes from: called with the request's
    /// extensions when it arrives and with the response's extensions when
    /// the handler answered (the later one wins). The default reads a
    /// [`SentryUser`]. Code running inside the request can also call
    /// [`set_user`](crate::set_user).
    pub fn user_from<F>(mut self, user_from: F) -> Self
    where
        F: Fn(&Extensions) -> Option<User> + Send + Sync + 'static,
    {
        self.user_from = Arc::new(user_from);
        self
    }

    /// The largest problem+json body of a captured response the layer reads
    /// for its `title` and `detail` (default 16 KiB, at most 1 MiB); zero
    /// never reads one. Only bodies whose size is known and within this
    /// bound are read; no other body is ever buffered.
    pub fn max_problem_size(mut self, bytes: usize) -> Self {
        self.max_problem_size = bytes;
        self
    }

    /// The layer, or the first setting that is invalid.
    pub fn build(self) -> Result<SentryLayer, ConfigError> {
        let (start, end) = (*self.capture.start(), *self.capture.end());
        if start > end || start < 100 || end > 599 {
            return Err(ConfigError::invalid(
                "capture_status",
                format!("{start}..={end} is not a non-empty range of statuses within 100..=599"),
            ));
        }
        if self.max_problem_size > MAX_PROBLEM_SIZE_LIMIT {
            return Err(ConfigError::invalid(
                "max_problem_size",
                format!("{} bytes is over the limit of 1 MiB", self.max_problem_size),
            ));
        }
        Ok(SentryLayer::from_settings(Arc::new(Settings {
            capture: self.capture,
            classifier: self.classifier,
            user_from: self.user_from,
            max_problem_size: self.max_problem_size,
        })))
    }
}
