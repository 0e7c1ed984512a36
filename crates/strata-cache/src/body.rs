//! The response body: stored bytes for a hit, the origin's body passed
//! through, or the origin's body teed into the store as it streams.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// How a teed body ended.
#[derive(Debug)]
pub(crate) enum FillEnd {
    /// Whole, within the cap: these bytes.
    Complete(Bytes),
    /// Past the per-object cap: storing stopped.
    TooLarge,
    /// The body failed or the client went away first.
    Aborted,
}

/// What to do once a teed body ends; called exactly once.
pub(crate) struct Fill(Option<Box<dyn FnOnce(FillEnd) + Send>>);

impl Fill {
    pub(crate) fn new(f: impl FnOnce(FillEnd) + Send + 'static) -> Self {
        Self(Some(Box::new(f)))
    }

    fn end(mut self, end: FillEnd) {
        if let Some(f) = self.0.take() {
            f(end);
        }
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f(FillEnd::Aborted);
        }
    }
}

pin_project! {
    /// The body of a response that went through the cache.
    pub struct CacheBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Full { data: Option<Bytes> },
        Inner { #[pin] body: B },
        Tee { #[pin] body: B, buf: BytesMut, cap: usize, fill: Option<Fill> },
    }
}

impl<B> CacheBody<B> {
    pub(crate) fn full(data: Bytes) -> Self {
        let data = (!data.is_empty()).then_some(data);
        Self {
            kind: Kind::Full { data },
        }
    }

    pub(crate) fn empty() -> Self {
        Self {
            kind: Kind::Full { data: None },
        }
    }

    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn tee(body: B, cap: usize, fill: Fill) -> Self
    where
        B: Body,
    {
        if body.is_end_stream() {
            // An empty body may never be polled (hyper writes
            // `Content-Length: 0` and stops): it is complete already.
            fill.end(FillEnd::Complete(Bytes::new()));
            return Self::inner(body);
        }
        Self {
            kind: Kind::Tee {
                body,
                buf: BytesMut::new(),
                cap,
                fill: Some(fill),
            },
        }
    }
}

/// A complete body of these bytes, so layers that answer with bodies of
/// their own (a rate-limit refusal, a health report) can sit directly
/// outside the cache, as in the recommended stack order.
impl<B> From<Bytes> for CacheBody<B> {
    fn from(data: Bytes) -> Self {
        Self::full(data)
    }
}

impl<B> fmt::Debug for CacheBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Full { .. } => "stored",
            Kind::Inner { .. } => "origin",
            Kind::Tee { .. } => "origin, teed into the store",
        };
        f.debug_tuple("CacheBody").field(&kind).finish()
    }
}

impl<B> Body for CacheBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Tee {
                body,
                buf,
                cap,
                fill,
            } => {
                let mut body = body;
                let frame = ready!(body.as_mut().poll_frame(cx));
                match &frame {
                    Some(Ok(frame)) => {
                        if let (Some(data), true) = (frame.data_ref(), fill.is_some()) {
                            if buf.len() + data.len() > *cap {
                                *buf = BytesMut::new();
                                if let Some(f) = fill.take() {
                                    f.end(FillEnd::TooLarge);
                                }
                            } else {
                                buf.extend_from_slice(data);
                            }
                        }
                        // A body that knows it is done (its `Content-Length`
                        // reached) may never be polled again: hyper stops
                        // once the length is written.
                        if body.is_end_stream()
                            && let Some(f) = fill.take()
                        {
                            f.end(FillEnd::Complete(buf.split().freeze()));
                        }
                    }
                    Some(Err(_)) => drop(fill.take()),
                    None => {
                        if let Some(f) = fill.take() {
                            f.end(FillEnd::Complete(buf.split().freeze()));
                        }
                    }
                }
                Poll::Ready(frame)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full { data } => data.is_none(),
            Kind::Inner { body } => body.is_end_stream(),
            // The fill completes on the frame that ends the body.
            Kind::Tee { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Inner { body } | Kind::Tee { body, .. } => body.size_hint(),
        }
    }
}
