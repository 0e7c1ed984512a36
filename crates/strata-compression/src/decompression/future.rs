//! [`ResponseFuture`] and the response body it yields.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::{Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use strata_core::Problem;

use super::body::{INVALID, TOO_LARGE};

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Rejection { body: Option<Bytes> },
    }
}

pin_project! {
    /// The response body of [`RequestDecompression`](super::RequestDecompression):
    /// the inner service's body, or a 400, 413 or 415 problem document.
    pub struct DecompressionResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

impl<B> fmt::Debug for DecompressionResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Inner { .. } => f.write_str("DecompressionResponseBody::Inner"),
            Kind::Rejection { .. } => f.write_str("DecompressionResponseBody::Rejection"),
        }
    }
}

/// A body held in memory, sent as is. Lets layers outside decompression that
/// answer on their own build this body type.
impl<B> From<Bytes> for DecompressionResponseBody<B> {
    fn from(data: Bytes) -> Self {
        Self {
            kind: Kind::Rejection { body: Some(data) },
        }
    }
}

impl<B> Body for DecompressionResponseBody<B>
where
    B: Body,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body
                .poll_frame(cx)
                .map_ok(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))),
            KindProj::Rejection { body } => {
                Poll::Ready(body.take().map(|data| Ok(Frame::data(data))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Rejection { body } => body.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Rejection { body } => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

fn rejection<B>(response: Response<Bytes>) -> Response<DecompressionResponseBody<B>> {
    response.map(|body| DecompressionResponseBody {
        kind: Kind::Rejection { body: Some(body) },
    })
}

pin_project! {
    /// The future of [`RequestDecompression`](super::RequestDecompression).
    ///
    /// # Panics
    ///
    /// Polled again after it returned `Ready`.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        rejected: Option<Response<Bytes>>,
        outcome: Option<(Arc<AtomicU8>, u64)>,
        done: bool,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F, outcome: Option<(Arc<AtomicU8>, u64)>) -> Self {
        Self {
            inner: Some(future),
            rejected: None,
            outcome,
            done: false,
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            inner: None,
            rejected: Some(response),
            outcome: None,
            done: false,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<DecompressionResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "`ResponseFuture` polled after completion");
        let Some(inner) = this.inner.as_pin_mut() else {
            *this.done = true;
            let response = this.rejected.take();
            return Poll::Ready(Ok(rejection(response.unwrap_or_default())));
        };
        let response = ready!(inner.poll(cx));
        *this.done = true;
        let response = response?;
        if let Some((outcome, limit)) = this.outcome.as_ref() {
            match outcome.load(Ordering::Acquire) {
                TOO_LARGE => {
                    tracing::debug!(limit, "decompressed request body over the cap");
                    return Poll::Ready(Ok(rejection(
                        Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
                            .detail(format!(
                                "the decompressed request body exceeds {limit} bytes"
                            ))
                            .extension("max_size", limit)
                            .into_response(),
                    )));
                }
                INVALID => {
                    return Poll::Ready(Ok(rejection(
                        Problem::new(StatusCode::BAD_REQUEST)
                            .detail("the request body does not decode with its Content-Encoding")
                            .into_response(),
                    )));
                }
                _ => {}
            }
        }
        Poll::Ready(Ok(response.map(|body| DecompressionResponseBody {
            kind: Kind::Inner { body },
        })))
    }
}
