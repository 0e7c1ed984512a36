//! [`DecompressionBody`]: a request body decoded as it streams, under a cap.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::BoxError;
use crate::codec::Decoder;

/// Decoded bytes produced per frame at most; with the decoder's own state,
/// this bounds the memory a request body uses, whatever it expands to.
pub(crate) const CHUNK: usize = 32 * 1024;

pub(crate) const OK: u8 = 0;
pub(crate) const TOO_LARGE: u8 = 1;
pub(crate) const INVALID: u8 = 2;

/// The error a [`DecompressionBody`] returns once the decoded body passes
/// the layer's `max_size`. The layer answers 413 whatever the handler did
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecompressedTooLarge {
    /// The cap in bytes.
    pub limit: u64,
}

impl fmt::Display for DecompressedTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the decompressed request body exceeds {} bytes",
            self.limit
        )
    }
}

impl std::error::Error for DecompressedTooLarge {}

struct Decoding {
    decoder: Decoder,
    input: Bytes,
    out: Box<[u8]>,
    total: u64,
    limit: u64,
    outcome: Arc<AtomicU8>,
    inner_done: bool,
    member_ended: bool,
    finished: bool,
    trailers: Option<HeaderMap>,
}

pin_project! {
    /// A request body decoded by
    /// [`RequestDecompression`](crate::RequestDecompression), or passed
    /// through when it was not encoded.
    pub struct DecompressionBody<B> {
        #[pin]
        inner: B,
        decoding: Option<Box<Decoding>>,
    }
}

impl<B> fmt::Debug for DecompressionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecompressionBody")
            .field("decoding", &self.decoding.is_some())
            .finish_non_exhaustive()
    }
}

impl<B> DecompressionBody<B> {
    pub(crate) fn passthrough(inner: B) -> Self {
        Self {
            inner,
            decoding: None,
        }
    }

    pub(crate) fn decode(inner: B, decoder: Decoder, limit: u64, outcome: Arc<AtomicU8>) -> Self {
        Self {
            inner,
            decoding: Some(Box::new(Decoding {
                decoder,
                input: Bytes::new(),
                out: vec![0; CHUNK].into_boxed_slice(),
                total: 0,
                limit,
                outcome,
                inner_done: false,
                member_ended: false,
                finished: false,
                trailers: None,
            })),
        }
    }
}

impl Decoding {
    fn fail(
        &mut self,
        outcome: u8,
        error: BoxError,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.outcome.store(outcome, Ordering::Release);
        self.finished = true;
        self.trailers = None;
        Poll::Ready(Some(Err(error)))
    }

    fn emit(&mut self, written: usize) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.total += written as u64;
        if self.total > self.limit {
            let limit = self.limit;
            return self.fail(TOO_LARGE, Box::new(DecompressedTooLarge { limit }));
        }
        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(
            &self.out[..written],
        )))))
    }
}

impl<B> Body for DecompressionBody<B>
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
        let Some(d) = this.decoding.as_mut() else {
            return match this.inner.poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(
                    frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
                ))),
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        };
        loop {
            if d.finished {
                return Poll::Ready(d.trailers.take().map(|t| Ok(Frame::trailers(t))));
            }
            if d.input.is_empty() && !d.inner_done {
                match this.inner.as_mut().poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                        Ok(mut data) => d.input = data.copy_to_bytes(data.remaining()),
                        Err(frame) => {
                            d.trailers = frame.into_trailers().ok();
                            d.inner_done = true;
                        }
                    },
                    Poll::Ready(Some(Err(error))) => {
                        d.finished = true;
                        return Poll::Ready(Some(Err(error.into())));
                    }
                    Poll::Ready(None) => d.inner_done = true,
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            if !d.input.is_empty() {
                if d.member_ended {
                    // Another gzip member or zstd frame follows.
                    if let Err(error) = d.decoder.reinit() {
                        return d.fail(INVALID, error.into());
                    }
                    d.member_ended = false;
                }
                let (step, written) = match d.decoder.decode(&d.input, &mut d.out) {
                    Ok(result) => result,
                    Err(error) => return d.fail(INVALID, error.into()),
                };
                d.input.advance(step.consumed);
                d.member_ended = step.ended;
                if written > 0 {
                    return d.emit(written);
                }
                if step.consumed == 0 && !step.ended {
                    return d.fail(INVALID, "the decoder made no progress".into());
                }
                continue;
            }
            // The input is exhausted: drain what the decoder holds, then
            // check that the stream was complete.
            if d.member_ended {
                d.finished = true;
                continue;
            }
            let (step, written) = match d.decoder.decode(&[], &mut d.out) {
                Ok(result) => result,
                Err(error) => return d.fail(INVALID, error.into()),
            };
            d.member_ended = step.ended;
            if written > 0 {
                return d.emit(written);
            }
            if step.ended {
                continue;
            }
            match d.decoder.finish(&mut d.out) {
                Ok((done, written)) => {
                    d.member_ended = done;
                    if written > 0 {
                        return d.emit(written);
                    }
                    if !done {
                        return d.fail(INVALID, "the encoded body is truncated".into());
                    }
                }
                Err(error) => return d.fail(INVALID, error.into()),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.decoding {
            None => self.inner.is_end_stream(),
            Some(d) => d.finished && d.trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.decoding {
            None => self.inner.size_hint(),
            Some(_) => SizeHint::default(),
        }
    }
}
