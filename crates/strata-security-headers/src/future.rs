//! [`ResponseFuture`]: adds the headers when the inner response is ready.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use crate::CspNonce;
use crate::compiled::Compiled;

pin_project! {
    /// The response future of [`SecurityHeaders`](crate::SecurityHeaders).
    ///
    /// # Panics
    ///
    /// Polled again after it returned `Ready`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: Arc<Compiled>,
        https: bool,
        nonce: Option<CspNonce>,
        done: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        config: Arc<Compiled>,
        https: bool,
        nonce: Option<CspNonce>,
    ) -> Self {
        Self {
            inner,
            config,
            https,
            nonce,
            done: false,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "`ResponseFuture` polled after completion");
        let response = ready!(this.inner.poll(cx));
        *this.done = true;
        let mut response = response?;
        // A nonce the handler did not read is never drawn.
        let nonce = this.nonce.as_ref().and_then(CspNonce::seal);
        this.config
            .apply(response.headers_mut(), *this.https, nonce);
        Poll::Ready(Ok(response))
    }
}
