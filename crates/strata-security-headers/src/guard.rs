//! [`GuardFuture`]: the inner service's future, or a response decided
//! without calling it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`TrustedHost`](crate::TrustedHost) and
    /// [`HttpsRedirect`](crate::HttpsRedirect): the inner service's response,
    /// or the rejection or redirect the layer answered with itself.
    #[derive(Debug)]
    pub struct GuardFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[derive(Debug)]
    #[project = StateProj]
    enum State<F, B> {
        Inner {
            #[pin]
            future: F,
        },
        Answered {
            response: Option<Response<B>>,
        },
    }
}

impl<F, B> GuardFuture<F, B> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<B>) -> Self {
        Self {
            state: State::Answered {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for GuardFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Answered { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled after completion: stay pending rather than panic.
                None => Poll::Pending,
            },
        }
    }
}
