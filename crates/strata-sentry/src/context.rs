//! What the application tells Sentry: the user, the error behind a
//! response, breadcrumbs and errors it handled itself.

use std::error::Error;
use std::sync::Arc;

use sentry::protocol::{Breadcrumb, Level};
use sentry::{Hub, User};

/// The request's user, as an extension: put it in the request's extensions
/// (an outer layer that knows the user) or in the response's (a handler);
/// the layer puts it on the request's scope, so its events carry it.
///
/// ```
/// use strata_sentry::SentryUser;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(SentryUser::id("42").username("ada"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SentryUser(pub User);

impl SentryUser {
    /// A user known by `id`.
    pub fn id(id: impl Into<String>) -> Self {
        Self(User {
            id: Some(id.into()),
            ..User::default()
        })
    }

    /// The user's name.
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.0.username = Some(username.into());
        self
    }
}

/// The error behind a response, as a response extension: the layer
/// captures it (its message and `source` chain) when the response's status
/// is captured.
///
/// ```
/// use strata_sentry::ResponseError;
///
/// let error = std::io::Error::other("the disk is full");
/// let mut response = http::Response::new(());
/// *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
/// response.extensions_mut().insert(ResponseError::new(error));
/// ```
#[derive(Debug, Clone)]
pub struct ResponseError(pub Arc<dyn Error + Send + Sync>);

impl ResponseError {
    /// Wraps `error`.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

/// Sets the user of the current request's scope (inside [`SentryLayer`](crate::SentryLayer)
/// each request has its own): events captured from now on in this request
/// carry it.
pub fn set_user(user: Option<User>) {
    Hub::current().configure_scope(|scope| scope.set_user(user));
}

/// Captures `error`, handled by the application, as an error event tagged
/// `component`, with the current request's context; returns the event id
/// (nil when no client is bound).
pub fn capture_error<E: Error + ?Sized>(error: &E, component: &str) -> sentry::types::Uuid {
    let hub = Hub::current();
    let mut event = sentry::event_from_error(error);
    event.level = Level::Error;
    event
        .tags
        .insert("component".to_owned(), component.to_owned());
    hub.capture_event(event)
}

/// Adds an `info` breadcrumb of `category` to the current request's scope.
pub fn breadcrumb(category: &str, message: impl Into<String>) {
    add_breadcrumb(Level::Info, category, message);
}

/// Adds a breadcrumb of `level` and `category` to the current request's
/// scope.
pub fn add_breadcrumb(level: Level, category: &str, message: impl Into<String>) {
    let message = message.into();
    Hub::current().add_breadcrumb(|| Breadcrumb {
        level,
        category: Some(category.to_owned()),
        message: Some(message),
        ..Breadcrumb::default()
    });
}
