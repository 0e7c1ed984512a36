use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::labels::Outcome;
use crate::recorder::Recorder;

pin_project! {
    /// The response body of [`Metrics`](crate::Metrics): the inner body,
    /// counting its bytes. The request is recorded when the body ends, fails,
    /// or is dropped unfinished (a client that hung up, recorded with the
    /// status that was sent and no `error_type`).
    #[derive(Debug)]
    pub struct MetricsBody<B> {
        #[pin]
        inner: B,
        recorder: Option<Recorder>,
    }
}

impl<B> MetricsBody<B> {
    pub(crate) fn new(inner: B, recorder: Option<Recorder>) -> Self {
        Self { inner, recorder }
    }
}

impl<B: Body> Body for MetricsBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let result = ready!(this.inner.as_mut().poll_frame(cx));
        if let Some(recorder) = this.recorder {
            match &result {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        recorder.response_size += data.remaining() as u64;
                    }
                    if this.inner.is_end_stream() {
                        recorder.finish();
                    }
                }
                Some(Err(_)) => {
                    if let Outcome::Response(status) = recorder.outcome {
                        recorder.outcome = Outcome::BodyError(status);
                    }
                    recorder.finish();
                }
                None => recorder.finish(),
            }
        }
        Poll::Ready(result)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
