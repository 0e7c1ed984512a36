//! [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use sentry::Hub;
use strata_core::Problem;

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
    pub struct ResponseFuture<F>
    where
        F: Future,
    {
        #[pin]
        kind: Kind<F>,
        settings: Arc<Settings>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F>
    where
        F: Future,
    {
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
        Panicked {
            panic: bool,
        },
        // Reading a small problem+json body before capturing it.
        Reading {
            future: BoxFuture<F::Output>,
        },
        Done,
    }
}

impl<F: Future> ResponseFuture<F> {
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
            kind: Kind::Panicked { panic: true },
            settings,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    E: Send + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let settings = this.settings;
        let mut kind = this.kind;
        let poll = match kind.as_mut().project() {
            KindProj::Passthrough { future } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(poll) => poll,
                    Err(payload) => {
                        on_panic(&*payload, None);
                        Poll::Ready(Ok(internal_error()))
                    }
                }
            }
            KindProj::Reported { future, report } => {
                let Some(hub) = report.as_ref().map(|report| report.hub.clone()) else {
                    polled_after_completion()
                };
                let polled = Hub::run(hub, || catch_unwind(AssertUnwindSafe(|| future.poll(cx))));
                match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => {
                        let Some(report) = report.take() else {
                            polled_after_completion()
                        };
                        match answered(report, response, settings) {
                            Answer::Now(response) => Poll::Ready(Ok(response)),
                            Answer::Later(future) => {
                                kind.set(Kind::Reading { future });
                                return self_poll_reading(kind, cx);
                            }
                        }
                    }
                    Ok(Poll::Ready(Err(error))) => {
                        if let Some(mut report) = report.take() {
                            report.finish(None);
                        }
                        Poll::Ready(Err(error))
                    }
                    Err(payload) => {
                        on_panic(&*payload, report.take());
                        Poll::Ready(Ok(internal_error()))
                    }
                }
            }
            KindProj::Panicked { panic } => {
                if !std::mem::take(panic) {
                    polled_after_completion()
                }
                Poll::Ready(Ok(internal_error()))
            }
            KindProj::Reading { future } => future.as_mut().poll(cx),
            KindProj::Done => polled_after_completion(),
        };
        if poll.is_ready() {
            kind.set(Kind::Done);
        }
        poll
    }
}

fn self_poll_reading<F, B, E>(
    mut kind: Pin<&mut Kind<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<B>, E>>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    let poll = match kind.as_mut().project() {
        KindProj::Reading { future } => future.as_mut().poll(cx),
        _ => unreachable!("called right after entering the reading state"),
    };
    if poll.is_ready() {
        kind.set(Kind::Done);
    }
    poll
}

enum Answer<B, E> {
    Now(Response<B>),
    Later(BoxFuture<Result<Response<B>, E>>),
}

/// The response arrived: the user it names, the event its status calls for,
/// the transaction finished.
fn answered<B, E>(
    mut report: Box<Report>,
    response: Response<B>,
    settings: &Settings,
) -> Answer<B, E>
where
    B: http_body::Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    E: Send + 'static,
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
            let max = settings.max_problem_size;
            return Answer::Later(Box::pin(async move {
                let (response, text) = problem::read(response, max).await;
                report.capture_status(status, None, text);
                report.finish(Some(status));
                Ok(response)
            }));
        } else {
            report.capture_status(status, None, None);
        }
    }
    report.finish(Some(status));
    Answer::Now(response)
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

fn internal_error<B: From<Bytes>>() -> Response<B> {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
        .detail("the server failed to answer this request")
        .into_response()
}

#[cold]
#[track_caller]
fn polled_after_completion() -> ! {
    panic!("`ResponseFuture` polled after completion")
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
