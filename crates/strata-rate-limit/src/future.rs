//! [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::headers::Headers;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The response future of [`RateLimit`](crate::RateLimit).
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
        Inner {
            #[pin]
            future: F,
            headers: Option<Headers>,
        },
        Ready {
            // Boxed: refusals are rare, and the future stays small.
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
    pub(crate) fn inner(future: F, headers: Option<Headers>) -> Self {
        Self {
            kind: Kind::Inner { future, headers },
        }
    }

    pub(crate) fn ready(response: Response<B>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(Box::new(Ok(response))),
            },
        }
    }

    #[cfg(feature = "redis")]
    pub(crate) fn boxed(future: BoxFuture<F::Output>) -> Self {
        Self {
            kind: Kind::Boxed { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        let poll = match kind.as_mut().project() {
            KindProj::Inner { future, headers } => {
                // The response is annotated where it lies: no copy of it.
                let mut poll = future.poll(cx);
                if let Poll::Ready(Ok(response)) = &mut poll
                    && let Some(headers) = headers.take()
                {
                    headers.apply(response.headers_mut());
                }
                poll
            }
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
        poll
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
