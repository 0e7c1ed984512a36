//! `Session` as an axum extractor (feature `axum`).

use std::convert::Infallible;
use std::sync::Once;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use strata_core::Problem;

use crate::Session;

/// Why the [`Session`] extractor refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No `SessionLayer` runs in front of this handler: `500`.
    MissingLayer,
    /// The store failed when the request came in: `503` problem+json.
    Unavailable,
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            Self::MissingLayer => Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                .title("Session layer missing")
                .into_response(),
            Self::Unavailable => crate::commit::unavailable(),
        }
    }
}

fn missing_layer() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "a handler extracts `Session` but no `SessionLayer` runs in front of it: \
             add `.layer(SessionLayer::new())` outside the routes that use sessions"
        );
    });
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(session) = parts.extensions.get::<Session>() else {
            missing_layer();
            return Err(SessionRejection::MissingLayer);
        };
        if session.is_unavailable() {
            return Err(SessionRejection::Unavailable);
        }
        Ok(session.clone())
    }
}

/// `Option<Session>`: `None` when the store is unavailable (or no layer
/// runs), for handlers that work without a session.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        let Some(session) = parts.extensions.get::<Session>() else {
            missing_layer();
            return Ok(None);
        };
        Ok((!session.is_unavailable()).then(|| session.clone()))
    }
}
