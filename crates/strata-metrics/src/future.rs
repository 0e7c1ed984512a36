use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use crate::body::MetricsBody;
use crate::labels::Outcome;
use crate::recorder::Recorder;

pin_project! {
    /// The response future of [`Metrics`](crate::Metrics). Dropped before it
    /// completes (the client hung up while the handler ran), the request is
    /// recorded without a status and without `error_type`.
    ///
    /// # Panics
    ///
    /// When polled again after it returned `Ready`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        recorder: Option<Recorder>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, recorder: Recorder) -> Self {
        Self {
            inner,
            recorder: Some(recorder),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MetricsBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(
            this.recorder.is_some(),
            "`ResponseFuture` polled after completion"
        );
        let result = ready!(this.inner.poll(cx));
        let mut recorder = this.recorder.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(recorder) = &mut recorder {
                    recorder.outcome = Outcome::Response(response.status().as_u16());
                }
                Ok(response.map(|body| MetricsBody::new(body, recorder)))
            }
            Err(error) => {
                if let Some(recorder) = &mut recorder {
                    recorder.outcome = Outcome::ServiceError;
                    recorder.finish();
                }
                Err(error)
            }
        })
    }
}
