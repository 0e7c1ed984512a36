use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

pub(crate) type BoxAnswer = Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>;

pin_project! {
    /// The response future of [`Health`](crate::Health): the inner service's
    /// response, or a probe's answer.
    ///
    /// # Panics
    ///
    /// When polled again after it returned `Ready`.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Answered { response: Option<Response<Bytes>> },
        Probing { future: BoxAnswer },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn answered(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Answered {
                response: Some(response),
            },
        }
    }

    pub(crate) fn probing(future: BoxAnswer) -> Self {
        Self {
            kind: Kind::Probing { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<Bytes>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        let output = match kind.as_mut().project() {
            KindProj::Inner { future } => ready!(future.poll(cx)),
            KindProj::Answered { response } => match response.take() {
                Some(response) => Ok(response.map(B::from)),
                // Only `Done` follows an answer; kept for the same message.
                None => panic!("`ResponseFuture` polled after completion"),
            },
            KindProj::Probing { future } => Ok(ready!(future.as_mut().poll(cx)).map(B::from)),
            KindProj::Done => panic!("`ResponseFuture` polled after completion"),
        };
        kind.set(Kind::Done);
        Poll::Ready(output)
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Answered { .. } => "Answered",
            Kind::Probing { .. } => "Probing",
            Kind::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}
