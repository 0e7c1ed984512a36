//! The response future of [`TrustedHost`](crate::TrustedHost) and
//! [`HttpsRedirect`](crate::HttpsRedirect): the inner service's future, or
//! a response decided without calling it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`TrustedHost`](crate::TrustedHost) and
    /// [`HttpsRedirect`](crate::HttpsRedirect): the inner service's response,
    /// or the rejection or redirect the layer answered with itself.
    ///
    /// # Panics
    ///
    /// Polled again after it returned `Ready`.
    pub struct ResponseFuture<F>
    where
        F: Future,
    {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F>
    where
        F: Future,
    {
        Inner {
            #[pin]
            future: F,
        },
        Answered {
            output: Option<F::Output>,
        },
        Done,
    }
}

impl<F: Future> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Inner { .. } => "inner",
            State::Answered { .. } => "answered",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn answered(output: F::Output) -> Self {
        Self {
            state: State::Answered {
                output: Some(output),
            },
        }
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let output = match state.as_mut().project() {
            StateProj::Inner { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
            StateProj::Answered { output } => match output.take() {
                Some(output) => output,
                None => unreachable!("an answered future holds its output until polled"),
            },
            StateProj::Done => panic!("`ResponseFuture` polled after completion"),
        };
        state.set(State::Done);
        Poll::Ready(output)
    }
}
