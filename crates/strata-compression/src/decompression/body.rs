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
                out: vec![0; buffer_len(limit)].into_boxed_slice(),
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

/// The output buffer: one chunk, or one byte past the cap when that is less.
fn buffer_len(limit: u64) -> usize {
    usize::try_from(limit.saturating_add(1)).map_or(CHUNK, |n| n.min(CHUNK))
}

impl Decoding {
    /// The output space for the next step: one chunk, or one byte past the
    /// cap, whichever is less, so the decoder never produces more than
    /// `limit + 1` bytes in all, however small the cap.
    fn room(&self) -> usize {
        let left = self.limit.saturating_sub(self.total).saturating_add(1);
        usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK))
    }

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
                let room = d.room();
                let (step, written) = match d.decoder.decode(&d.input, &mut d.out[..room]) {
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
            let room = d.room();
            let (step, written) = match d.decoder.decode(&[], &mut d.out[..room]) {
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
            let room = d.room();
            match d.decoder.finish(&mut d.out[..room]) {
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

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::{DecompressedTooLarge, DecompressionBody, TOO_LARGE};
    use crate::codec::{Decoder, Encoder, Encoding, OutBuf};

    fn gzip(input: &[u8]) -> Bytes {
        let mut encoder = Encoder::new(Encoding::Gzip, 4, None).expect("gzip");
        let mut out = OutBuf::with_capacity(1024);
        encoder.encode(input, &mut out).expect("encode");
        encoder.finish(&mut out).expect("finish");
        out.into_bytes()
    }

    #[tokio::test]
    async fn decoding_stops_one_byte_past_a_small_cap() {
        // About 1 KiB of gzip that decodes to 1 MiB, under a 100-byte cap.
        let encoded = gzip(&vec![b'a'; 1 << 20]);
        assert!(encoded.len() < 4096);
        let outcome = Arc::new(AtomicU8::new(super::OK));
        let decoder = Decoder::new(Encoding::Gzip).expect("gzip");
        let mut body =
            DecompressionBody::decode(Full::new(encoded), decoder, 100, Arc::clone(&outcome));
        let mut seen = 0;
        let error = loop {
            match body.frame().await.expect("an error before the end") {
                Ok(frame) => seen += frame.into_data().expect("data").len(),
                Err(error) => break error,
            }
        };
        let error = error.downcast::<DecompressedTooLarge>().expect("too large");
        assert_eq!(*error, DecompressedTooLarge { limit: 100 });
        assert_eq!(outcome.load(Ordering::Acquire), TOO_LARGE);
        assert!(seen <= 100, "the handler read {seen} bytes");
        let produced = body.decoding.as_ref().expect("decoding").total;
        assert_eq!(produced, 101, "the decoder produced {produced} bytes");
    }
}
