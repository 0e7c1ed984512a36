//! A response body that is read to its end even when hyper stops early.
//!
//! hyper stops polling a body once it has written `Content-Length` bytes,
//! without reading the end of the stream; the cache stores a teed body
//! only when it sees that end, so a response with a length would never be
//! stored. This body polls once more right after the last byte.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// `B`, polled to `None` as soon as its size hint says nothing is left.
    #[derive(Debug)]
    pub(crate) struct Finish<B> {
        #[pin]
        body: B,
        // The last data frame, held while the end is read.
        last: Option<Frame<Bytes>>,
        ended: bool,
    }
}

impl<B> Finish<B> {
    pub(crate) fn new(body: B) -> Self {
        Self {
            body,
            last: None,
            ended: false,
        }
    }
}

impl<B: Body<Data = Bytes>> Body for Finish<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        if *this.ended {
            return Poll::Ready(this.last.take().map(Ok));
        }
        if this.last.is_none() {
            match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) if frame.is_data() && this.body.size_hint().upper() == Some(0) => {
                    *this.last = Some(frame);
                }
                other => {
                    *this.ended = other.is_none();
                    return Poll::Ready(other);
                }
            }
        }
        // Nothing is left by the size hint: read the end, then hand on the frame.
        match ready!(this.body.poll_frame(cx)) {
            None => {
                *this.ended = true;
                Poll::Ready(this.last.take().map(Ok))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error))),
            Some(Ok(next)) => Poll::Ready(this.last.replace(next).map(Ok)),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.last.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        let held = self
            .last
            .as_ref()
            .and_then(Frame::data_ref)
            .map_or(0, |d| d.len() as u64);
        let inner = self.body.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower() + held);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + held);
        }
        hint
    }
}
