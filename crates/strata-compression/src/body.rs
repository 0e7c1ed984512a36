//! [`CompressionBody`]: the response body the compression layer produces.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::BoxError;
use crate::codec::{Encoder, Encoding, OutBuf};
use crate::metrics::Meter;

/// The most input given to the encoder at once while streaming.
const SLICE: usize = 32 * 1024;

/// What the layer read from a body before choosing how to send it.
#[derive(Default)]
pub(crate) struct Buffered {
    pub(crate) chunks: VecDeque<Bytes>,
    pub(crate) len: usize,
    pub(crate) trailers: Option<HeaderMap>,
    pub(crate) error: Option<BoxError>,
    /// The inner body has nothing more to give.
    pub(crate) ended: bool,
}

impl fmt::Debug for Buffered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffered")
            .field("len", &self.len)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// A streaming encoder and its bookkeeping.
#[derive(Debug)]
pub(crate) struct Streaming {
    pub(crate) encoding: Encoding,
    pub(crate) encoder: Encoder,
    pub(crate) out: OutBuf,
    /// Flush after every data frame (event streams).
    pub(crate) flush_each: bool,
    /// Input was given since the last flush.
    pub(crate) dirty: bool,
    pub(crate) finished: bool,
    pub(crate) bytes_in: u64,
    pub(crate) meter: Meter,
}

#[derive(Debug)]
pub(crate) enum State {
    /// The inner body's frames, after any buffered prefix.
    Identity,
    /// A body already in memory (compressed in one piece, or a rejection).
    Full { data: Option<Bytes> },
    /// Compressing as the inner body streams.
    Encode(Box<Streaming>),
    /// Everything was sent.
    Done,
}

pin_project! {
    /// The response body of [`Compression`](crate::Compression): the inner
    /// body unchanged, compressed in one piece, or compressed as it streams.
    pub struct CompressionBody<B> {
        #[pin]
        direct: Option<B>,
        boxed: Option<Pin<Box<B>>>,
        buffered: Buffered,
        state: State,
    }
}

impl<B> fmt::Debug for CompressionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressionBody")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A body held in memory, sent as is. Lets layers outside compression that
/// answer on their own (a rate limiter's 429, a health probe) build this body
/// type.
impl<B> From<Bytes> for CompressionBody<B> {
    fn from(data: Bytes) -> Self {
        Self::full(data, None)
    }
}

impl<B> CompressionBody<B> {
    /// The inner body, untouched.
    pub(crate) fn passthrough(body: B) -> Self {
        Self {
            direct: Some(body),
            boxed: None,
            buffered: Buffered::default(),
            state: State::Identity,
        }
    }

    /// The buffered prefix, then the rest of the inner body, untouched.
    pub(crate) fn identity(body: Option<Pin<Box<B>>>, buffered: Buffered) -> Self {
        Self {
            direct: None,
            boxed: body,
            buffered,
            state: State::Identity,
        }
    }

    /// A body held in memory, then the trailers.
    pub(crate) fn full(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            direct: None,
            boxed: None,
            buffered: Buffered {
                trailers,
                ended: true,
                ..Buffered::default()
            },
            state: State::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }

    /// The buffered prefix then the rest of the inner body, compressed.
    pub(crate) fn encode(
        body: Option<Pin<Box<B>>>,
        buffered: Buffered,
        encoding: Streaming,
    ) -> Self {
        Self {
            direct: None,
            boxed: body,
            buffered,
            state: State::Encode(Box::new(encoding)),
        }
    }
}

fn poll_inner<B>(
    direct: Pin<&mut Option<B>>,
    boxed: &mut Option<Pin<Box<B>>>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let polled = if let Some(body) = direct.as_pin_mut() {
        body.poll_frame(cx)
    } else if let Some(body) = boxed.as_mut() {
        body.as_mut().poll_frame(cx)
    } else {
        return Poll::Ready(None);
    };
    Poll::Ready(match ready!(polled) {
        Some(Ok(frame)) => Some(Ok(
            frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
        )),
        Some(Err(error)) => Some(Err(error.into())),
        None => None,
    })
}

impl<B> Body for CompressionBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        let buffered = this.buffered;
        match this.state {
            State::Done => Poll::Ready(None),
            State::Full { data } => {
                if let Some(data) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                let trailers = buffered.trailers.take();
                *this.state = State::Done;
                Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))))
            }
            State::Identity => {
                if let Some(chunk) = buffered.chunks.pop_front() {
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                if buffered.ended {
                    *this.state = State::Done;
                    if let Some(error) = buffered.error.take() {
                        return Poll::Ready(Some(Err(error)));
                    }
                    return Poll::Ready(buffered.trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                poll_inner(this.direct, this.boxed, cx)
            }
            State::Encode(enc) => loop {
                if enc.finished {
                    *this.state = State::Done;
                    return Poll::Ready(buffered.trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                let input = match buffered.chunks.pop_front() {
                    Some(mut chunk) if chunk.len() > SLICE => {
                        // Large chunks go in slices, so the output buffer
                        // stays small and in cache.
                        buffered.chunks.push_front(chunk.split_off(SLICE));
                        Some(chunk)
                    }
                    Some(chunk) => Some(chunk),
                    None if buffered.ended => {
                        if let Some(error) = buffered.error.take() {
                            *this.state = State::Done;
                            return Poll::Ready(Some(Err(error)));
                        }
                        None
                    }
                    None => match poll_inner(this.direct.as_mut(), this.boxed, cx) {
                        Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                            Ok(mut data) if data.len() > SLICE => {
                                buffered.chunks.push_back(data.split_off(SLICE));
                                Some(data)
                            }
                            Ok(data) => Some(data),
                            Err(frame) => {
                                buffered.trailers = frame.into_trailers().ok();
                                buffered.ended = true;
                                None
                            }
                        },
                        Poll::Ready(Some(Err(error))) => {
                            *this.state = State::Done;
                            return Poll::Ready(Some(Err(error)));
                        }
                        Poll::Ready(None) => {
                            buffered.ended = true;
                            None
                        }
                        Poll::Pending => {
                            // Nothing more is ready: send what was compressed so
                            // far, so a slow body reaches the client as produced.
                            if enc.dirty {
                                enc.dirty = false;
                                if let Err(error) = enc.encoder.flush(&mut enc.out) {
                                    *this.state = State::Done;
                                    return Poll::Ready(Some(Err(error.into())));
                                }
                                if let Some(frame) = emit(enc) {
                                    return Poll::Ready(Some(Ok(frame)));
                                }
                            }
                            return Poll::Pending;
                        }
                    },
                };
                let result = match input {
                    Some(data) => {
                        enc.bytes_in += data.len() as u64;
                        enc.dirty = true;
                        let mut result = enc.encoder.encode(&data, &mut enc.out);
                        if enc.flush_each && result.is_ok() {
                            enc.dirty = false;
                            result = enc.encoder.flush(&mut enc.out);
                        }
                        result
                    }
                    None => {
                        this.boxed.take();
                        enc.finished = true;
                        enc.encoder.finish(&mut enc.out)
                    }
                };
                if let Err(error) = result {
                    *this.state = State::Done;
                    return Poll::Ready(Some(Err(error.into())));
                }
                if let Some(frame) = emit(enc) {
                    return Poll::Ready(Some(Ok(frame)));
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.state {
            State::Done => true,
            State::Full { data } => data.is_none() && self.buffered.trailers.is_none(),
            State::Identity => {
                self.buffered.chunks.is_empty()
                    && if self.buffered.ended {
                        self.buffered.trailers.is_none() && self.buffered.error.is_none()
                    } else if let Some(body) = &self.direct {
                        body.is_end_stream()
                    } else {
                        self.boxed.as_ref().is_none_or(|body| body.is_end_stream())
                    }
            }
            State::Encode(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            State::Done => SizeHint::with_exact(0),
            State::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
            }
            State::Identity => {
                let prefix = self
                    .buffered
                    .chunks
                    .iter()
                    .map(|c| c.len() as u64)
                    .sum::<u64>();
                let rest = if self.buffered.ended {
                    SizeHint::with_exact(0)
                } else if let Some(body) = &self.direct {
                    body.size_hint()
                } else {
                    self.boxed
                        .as_ref()
                        .map_or_else(|| SizeHint::with_exact(0), |body| body.size_hint())
                };
                let mut hint = SizeHint::new();
                hint.set_lower(rest.lower() + prefix);
                if let Some(upper) = rest.upper() {
                    hint.set_upper(upper + prefix);
                }
                hint
            }
            State::Encode(_) => SizeHint::default(),
        }
    }
}

/// The compressed bytes produced so far, as a frame.
fn emit(enc: &mut Streaming) -> Option<Frame<Bytes>> {
    if enc.out.is_empty() {
        return None;
    }
    let data = enc.out.take_copy();
    enc.meter.bytes(
        enc.encoding,
        std::mem::take(&mut enc.bytes_in),
        data.len() as u64,
    );
    Some(Frame::data(data))
}
