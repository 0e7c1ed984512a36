//! [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Response, StatusCode, response};
use pin_project_lite::pin_project;
use sentry::Hub;
use strata_core::Problem;

use crate::body::SentryBody;
use crate::config::Settings;
use crate::context::ResponseError;
use crate::problem;
use crate::report::{Report, panic_message};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// The response future of [`Sentry`](crate::Sentry).
    ///
    /// # Panics
    ///
    /// Polling it again after it returned `Ready` panics.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
        settings: Arc<Settings>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        // No client bound: the inner future, panics caught.
        Passthrough {
            #[pin]
            future: F,
        },
        // Reported on the request's hub.
        Reported {
            #[pin]
            future: F,
            report: Option<Box<Report>>,
        },
        // The inner service panicked when called.
        Panicked,
        // Reading a small problem+json body before capturing it.
        Reading {
            body: BoxFuture<Option<Bytes>>,
            parts: Option<response::Parts>,
            report: Option<Box<Report>>,
        },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn passthrough(future: F, settings: Arc<Settings>) -> Self {
        Self {
            kind: Kind::Passthrough { future },
            settings,
        }
    }

    pub(crate) fn reported(future: F, report: Box<Report>, settings: Arc<Settings>) -> Self {
        Self {
            kind: Kind::Reported {
                future,
                report: Some(report),
            },
            settings,
        }
    }

    /// A call that panicked: reported now, answered `500` when polled.
    pub(crate) fn panicked(
        payload: &(dyn std::any::Any + Send),
        report: Option<Box<Report>>,
        settings: Arc<Settings>,
    ) -> Self {
        on_panic(payload, report);
        Self {
            kind: Kind::Panicked,
            settings,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<SentryBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let settings = this.settings;
        let mut kind = this.kind;
        loop {
            let output = match kind.as_mut().project() {
                KindProj::Passthrough { future } => {
                    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(result)) => result.map(|r| r.map(SentryBody::inner)),
                        Err(payload) => {
                            on_panic(&*payload, None);
                            Ok(internal_error())
                        }
                    }
                }
                KindProj::Reported { future, report } => {
                    let Some(hub) = report.as_ref().map(|report| report.hub.clone()) else {
                        polled_after_completion()
                    };
                    let polled =
                        Hub::run(hub, || catch_unwind(AssertUnwindSafe(|| future.poll(cx))));
                    let polled = match polled {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(result)) => Ok(result),
                        Err(payload) => Err(payload),
                    };
                    let report = report.take();
                    match polled {
                        Ok(Ok(response)) => {
                            let Some(report) = report else {
                                polled_after_completion()
                            };
                            match answered(report, response, settings) {
                                Ok(response) => Ok(response),
                                Err(reading) => {
                                    let (parts, body, report) = *reading;
                                    kind.set(Kind::Reading {
                                        body,
                                        parts: Some(parts),
                                        report: Some(report),
                                    });
                                    continue;
                                }
                            }
                        }
                        Ok(Err(error)) => {
                            if let Some(mut report) = report {
                                report.finish(None);
                            }
                            Err(error)
                        }
                        Err(payload) => {
                            on_panic(&*payload, report);
                            Ok(internal_error())
                        }
                    }
                }
                KindProj::Panicked => Ok(internal_error()),
                KindProj::Reading {
                    body,
                    parts,
                    report,
                } => {
                    let bytes = ready!(body.as_mut().poll(cx));
                    let (Some(parts), Some(mut report)) = (parts.take(), report.take()) else {
                        polled_after_completion()
                    };
                    let text = bytes.as_deref().and_then(problem::text);
                    report.capture_status(parts.status, None, text);
                    report.finish(Some(parts.status));
                    let body = SentryBody::full(bytes.unwrap_or_default());
                    Ok(Response::from_parts(parts, body))
                }
                KindProj::Done => polled_after_completion(),
            };
            kind.set(Kind::Done);
            return Poll::Ready(output);
        }
    }
}

type Reading = (response::Parts, BoxFuture<Option<Bytes>>, Box<Report>);

/// The response arrived: the user it names, the event its status calls for,
/// the transaction finished; or the problem body to read first.
fn answered<B>(
    mut report: Box<Report>,
    response: Response<B>,
    settings: &Settings,
) -> Result<Response<SentryBody<B>>, Box<Reading>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if let Some(user) = settings.user(response.extensions()) {
        report
            .hub
            .configure_scope(|scope| scope.set_user(Some(user)));
    }
    let status = response.status();
    if settings.captures(status) {
        if let Some(error) = response.extensions().get::<ResponseError>() {
            report.capture_status(status, Some(error), None);
        } else if problem::readable(&response, settings.max_problem_size) {
            let (parts, body) = response.into_parts();
            let read = Box::pin(problem::read(body, settings.max_problem_size));
            return Err(Box::new((parts, read, report)));
        } else {
            report.capture_status(status, None, None);
        }
    }
    report.finish(Some(status));
    Ok(response.map(SentryBody::inner))
}

/// Logs a panic and, with a report, captures it.
fn on_panic(payload: &(dyn std::any::Any + Send), report: Option<Box<Report>>) {
    let message = panic_message(payload);
    tracing::error!(panic = message, "a handler panicked; answered 500");
    if let Some(mut report) = report {
        report.capture_panic(message);
        report.finish(Some(StatusCode::INTERNAL_SERVER_ERROR));
    }
}

fn internal_error<B>() -> Response<SentryBody<B>> {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
        .detail("the server failed to answer this request")
        .into_response::<Bytes>()
        .map(SentryBody::full)
}

#[cold]
#[track_caller]
fn polled_after_completion() -> ! {
    panic!("`ResponseFuture` polled after completion")
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
