//! [`ResponseFuture`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;

use crate::body::RecordBody;
use crate::capture::Pending;
use crate::record::{Outcome, RecordTags};

pin_project_lite::pin_project! {
    /// The response future of [`Recorder`](crate::Recorder): notes the
    /// status, headers and time to the response head, and wraps the body.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Box<Pending>>,
        cap: usize,
        state: State,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Recording,
    Off,
    Done,
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, pending: Pending, cap: usize) -> Self {
        Self {
            inner,
            pending: Some(Box::new(pending)),
            cap,
            state: State::Recording,
        }
    }

    pub(crate) fn off(inner: F) -> Self {
        Self {
            inner,
            pending: None,
            cap: 0,
            state: State::Off,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<RecordBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(
            *this.state != State::Done,
            "the recorder's ResponseFuture was polled after it completed"
        );
        let result = ready!(this.inner.poll(cx));
        if *this.state == State::Off {
            *this.state = State::Done;
            return Poll::Ready(result.map(|response| response.map(RecordBody::off)));
        }
        *this.state = State::Done;
        let mut pending = this
            .pending
            .take()
            .expect("the recorder's ResponseFuture was polled after it completed");
        match result {
            Ok(response) => {
                pending.ttfb = Some(pending.elapsed());
                pending.status = Some(response.status().as_u16());
                pending.response_headers = response.headers().clone();
                if let Some(tags) = response.extensions().get::<RecordTags>() {
                    pending.tags.merge(tags);
                }
                #[cfg(feature = "axum")]
                if pending.route.is_none() {
                    pending.route = response
                        .extensions()
                        .get::<crate::capture::Route>()
                        .cloned();
                }
                #[cfg(feature = "axum")]
                if pending.route.is_none() && response.status() != http::StatusCode::NOT_FOUND {
                    pending.unrouted();
                    warn_no_route();
                }
                let cap = *this.cap;
                Poll::Ready(Ok(
                    response.map(|body| RecordBody::response(body, cap, pending))
                ))
            }
            Err(error) => {
                pending.finish(None, Outcome::Error);
                Poll::Ready(Err(error))
            }
        }
    }
}

/// Logs once per process that exchanges are recorded without their route.
#[cfg(feature = "axum")]
fn warn_no_route() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "recorder: no MatchedPath on a request, exchanges are recorded without their route \
             template; add the recorder with Router::layer (after the routes) so axum has matched"
        );
    }
}
