//! One request's report: its hub, its transaction, the events the layer
//! captures when the response (or a panic) arrives.

use std::any::Any;
use std::sync::Arc;

use http::StatusCode;
use sentry::protocol::{Event, Exception, Level, Mechanism, SpanStatus};
use sentry::{Hub, Transaction};

use crate::context::ResponseError;

/// The tag holding the response's status.
pub(crate) const STATUS_TAG: &str = "http.response.status_code";

/// A request the layer follows: created when a client is bound.
pub(crate) struct Report {
    pub(crate) hub: Arc<Hub>,
    pub(crate) transaction: Option<Transaction>,
}

/// What a problem+json body says.
#[derive(Debug, Default)]
pub(crate) struct ProblemText {
    pub(crate) title: Option<String>,
    pub(crate) detail: Option<String>,
}

impl Report {
    /// Captures the response of `status` as an error event: the error the
    /// application attached, else the problem's title and detail.
    pub(crate) fn capture_status(
        &self,
        status: StatusCode,
        error: Option<&ResponseError>,
        problem: Option<ProblemText>,
    ) {
        let mut event = match error {
            Some(error) => sentry::event_from_error(&*error.0),
            None => {
                let problem = problem.unwrap_or_default();
                let title = problem
                    .title
                    .or_else(|| status.canonical_reason().map(str::to_owned))
                    .unwrap_or_else(|| "server error".to_owned());
                let value = problem
                    .detail
                    .unwrap_or_else(|| format!("the response was {status}"));
                Event {
                    exception: vec![Exception {
                        ty: title,
                        value: Some(value),
                        mechanism: Some(mechanism("http.server", true)),
                        ..Exception::default()
                    }]
                    .into(),
                    ..Event::default()
                }
            }
        };
        event.level = Level::Error;
        event
            .tags
            .insert(STATUS_TAG.to_owned(), status.as_u16().to_string());
        self.hub.capture_event(event);
    }

    /// Captures a handler's panic as a fatal event.
    pub(crate) fn capture_panic(&self, message: &str) {
        let mut event = Event {
            level: Level::Fatal,
            exception: vec![Exception {
                ty: "panic".to_owned(),
                value: Some(message.to_owned()),
                mechanism: Some(mechanism("panic", false)),
                ..Exception::default()
            }]
            .into(),
            ..Event::default()
        };
        event.tags.insert(
            STATUS_TAG.to_owned(),
            StatusCode::INTERNAL_SERVER_ERROR.as_u16().to_string(),
        );
        self.hub.capture_event(event);
    }

    /// Finishes the transaction with the response's status.
    pub(crate) fn finish(&mut self, status: Option<StatusCode>) {
        if let Some(transaction) = self.transaction.take() {
            if let Some(status) = status {
                transaction.set_tag(STATUS_TAG, status.as_u16());
            }
            if transaction.get_status().is_none() {
                transaction.set_status(status.map_or(SpanStatus::UnknownError, span_status));
            }
            transaction.finish();
        }
    }
}

impl Drop for Report {
    /// A request dropped before it was answered (the client went away)
    /// still sends its transaction, as aborted.
    fn drop(&mut self) {
        if let Some(transaction) = self.transaction.take() {
            if transaction.get_status().is_none() {
                transaction.set_status(SpanStatus::Aborted);
            }
            transaction.finish();
        }
    }
}

fn mechanism(ty: &str, handled: bool) -> Mechanism {
    Mechanism {
        ty: ty.to_owned(),
        handled: Some(handled),
        ..Mechanism::default()
    }
}

/// The message a panic was raised with.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a handler panicked"
    }
}

fn span_status(status: StatusCode) -> SpanStatus {
    match status.as_u16() {
        401 => SpanStatus::Unauthenticated,
        403 => SpanStatus::PermissionDenied,
        404 => SpanStatus::NotFound,
        409 => SpanStatus::AlreadyExists,
        429 => SpanStatus::ResourceExhausted,
        400..=499 => SpanStatus::InvalidArgument,
        501 => SpanStatus::Unimplemented,
        503 => SpanStatus::Unavailable,
        504 => SpanStatus::DeadlineExceeded,
        500..=599 => SpanStatus::InternalError,
        _ => SpanStatus::Ok,
    }
}
