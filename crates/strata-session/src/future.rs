//! [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

use crate::commit::Plan;
use crate::config::Settings;
use crate::session::Session;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The response future of [`SessionManager`](crate::SessionManager).
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
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F>
    where
        F: Future,
    {
        // A request without a session cookie: the inner future, then a
        // write only if the handler stored something.
        Inner {
            #[pin]
            future: F,
            session: Session,
            settings: Arc<Settings>,
        },
        Ready {
            response: Option<Box<F::Output>>,
        },
        Boxed {
            future: BoxFuture<F::Output>,
        },
        Done,
    }
}

impl<F, B, E> ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    pub(crate) fn inner(future: F, session: Session, settings: Arc<Settings>) -> Self {
        Self {
            kind: Kind::Inner {
                future,
                session,
                settings,
            },
        }
    }

    pub(crate) fn ready(response: Response<B>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(Box::new(Ok(response))),
            },
        }
    }

    pub(crate) fn boxed(future: BoxFuture<F::Output>) -> Self {
        Self {
            kind: Kind::Boxed { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<Bytes> + Send + 'static,
    E: Send + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            let poll = match kind.as_mut().project() {
                KindProj::Inner {
                    future,
                    session,
                    settings,
                } => match ready!(future.poll(cx)) {
                    Err(error) => Poll::Ready(Err(error)),
                    Ok(response) => {
                        let plan = Plan::take(session, settings);
                        if plan.is_empty() {
                            Poll::Ready(Ok(response))
                        } else {
                            let settings = settings.clone();
                            kind.set(Kind::Boxed {
                                future: Box::pin(
                                    async move { Ok(plan.run(&settings, response).await) },
                                ),
                            });
                            continue;
                        }
                    }
                },
                KindProj::Ready { response } => match response.take() {
                    Some(response) => Poll::Ready(*response),
                    None => polled_after_completion(),
                },
                KindProj::Boxed { future } => future.as_mut().poll(cx),
                KindProj::Done => polled_after_completion(),
            };
            if poll.is_ready() {
                kind.set(Kind::Done);
            }
            return poll;
        }
    }
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
