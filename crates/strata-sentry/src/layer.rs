//! [`SentryLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::{SentryBuilder, Settings};
use crate::service::Sentry;

/// Reports a service's server errors and panics to Sentry, one hub per
/// request.
///
/// Each request gets its own hub (forked from the current one), with the
/// request, its route and its user on the hub's scope, before the inner
/// service is called; so breadcrumbs, tags and events of one request never
/// mix with another's. With no Sentry client bound (no DSN), the layer only
/// turns panics into `500` problem+json and costs next to nothing.
///
/// [`SentryLayer::new`] has every default; [`SentryLayer::builder`] takes
/// the settings of [`SentryBuilder`].
#[derive(Debug, Clone)]
pub struct SentryLayer {
    settings: Arc<Settings>,
}

impl SentryLayer {
    /// Captures `500..=599`, names routes from axum's `MatchedPath`, reads
    /// the user from a [`SentryUser`](crate::SentryUser) extension.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .unwrap_or_else(|error| unreachable!("the default settings are valid: {error}"))
    }

    /// A builder with every default.
    pub fn builder() -> SentryBuilder {
        SentryBuilder::default()
    }

    pub(crate) fn from_settings(settings: Arc<Settings>) -> Self {
        Self { settings }
    }
}

impl Default for SentryLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for SentryLayer {
    type Service = Sentry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sentry::new(inner, self.settings.clone())
    }
}
