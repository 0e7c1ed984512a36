//! The response future of [`Cache`](crate::Cache).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use crate::body::CacheBody;

/// What the cache needs to know of its inner service's future: the body
/// and error of the response it resolves to. Implemented for every
/// future of a `Result<http::Response<B>, E>`.
pub trait InnerFuture {
    /// The response body type.
    type Body;
    /// The error type.
    type Error;
}

impl<F, B, E> InnerFuture for F
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Body = B;
    type Error = E;
}

type Boxed<F> = Pin<
    Box<
        dyn Future<
                Output = Result<
                    Response<CacheBody<<F as InnerFuture>::Body>>,
                    <F as InnerFuture>::Error,
                >,
            > + Send,
    >,
>;

/// Response future of [`Cache`](crate::Cache): the lookup, and the inner
/// service's future when the request goes to the origin.
pub struct ResponseFuture<F: InnerFuture> {
    inner: Option<Boxed<F>>,
}

impl<F: InnerFuture> ResponseFuture<F> {
    pub(crate) fn new(inner: Boxed<F>) -> Self {
        Self { inner: Some(inner) }
    }
}

impl<F: InnerFuture> Future for ResponseFuture<F> {
    type Output = Result<Response<CacheBody<F::Body>>, F::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self
            .inner
            .as_mut()
            .expect("`ResponseFuture` polled after completion");
        let output = std::task::ready!(inner.as_mut().poll(cx));
        self.inner = None;
        Poll::Ready(output)
    }
}

impl<F: InnerFuture> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("done", &self.inner.is_none())
            .finish()
    }
}
