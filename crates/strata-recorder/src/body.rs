//! [`RecordBody`]: a body teed into the recorder while it streams.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use crate::capture::Pending;
use crate::record::Outcome;

/// Body bytes held by reference (frames that are [`Bytes`], not copied)
/// while a body is no longer than this; the prefix and digest of such a
/// body are only computed if its exchange is kept.
pub(crate) const HOLD: usize = 64 * 1024;

/// What is kept of one body while it streams: its length and, until it
/// grows past [`HOLD`], its frames by reference; then a prefix up to the
/// cap and a running XXH3-128 digest. Nothing else is buffered.
pub(crate) struct Tap {
    cap: usize,
    held: Vec<Bytes>,
    held_len: usize,
    streaming: Option<Box<Streaming>>,
    pub(crate) len: u64,
}

/// A body past [`HOLD`] (or with frames that are not [`Bytes`]).
struct Streaming {
    prefix: Vec<u8>,
    digest: Xxh3,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("cap", &self.cap)
            .field("held", &self.held_len)
            .field("streaming", &self.streaming.is_some())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Tap {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            held: Vec::new(),
            held_len: 0,
            streaming: None,
            len: 0,
        }
    }

    /// A frame that is [`Bytes`]: held by reference while the body fits.
    fn push_bytes(&mut self, data: &Bytes) {
        if self.streaming.is_none() && self.held_len + data.len() <= HOLD {
            self.len += data.len() as u64;
            self.held_len += data.len();
            if !data.is_empty() {
                self.held.push(data.clone());
            }
        } else {
            self.push(data);
        }
    }

    /// Bytes seen through a slice: copied into the prefix and hashed now.
    fn push(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        let cap = self.cap;
        self.streaming().update(cap, data);
    }

    /// Switches to copying and hashing, catching up on the held frames.
    fn streaming(&mut self) -> &mut Streaming {
        let cap = self.cap;
        let held = &mut self.held;
        self.held_len = 0;
        self.streaming.get_or_insert_with(|| {
            let mut streaming = Box::new(Streaming {
                prefix: Vec::new(),
                digest: Xxh3::new(),
            });
            for chunk in held.drain(..) {
                streaming.update(cap, &chunk);
            }
            streaming
        })
    }

    /// The prefix, whether it is shorter than the body, and the hex
    /// XXH3-128 digest.
    pub(crate) fn finish(&mut self) -> (Vec<u8>, bool, String) {
        let (prefix, digest) = match self.streaming.take() {
            Some(streaming) => (streaming.prefix, streaming.digest.digest128()),
            None => {
                let held = std::mem::take(&mut self.held);
                let mut prefix = Vec::with_capacity(self.cap.min(self.held_len));
                for chunk in &held {
                    let room = self.cap - prefix.len();
                    prefix.extend_from_slice(&chunk[..room.min(chunk.len())]);
                }
                let digest = match held.as_slice() {
                    [] => xxh3_128(&[]),
                    [one] => xxh3_128(one),
                    many => {
                        let mut digest = Xxh3::new();
                        for chunk in many {
                            digest.update(chunk);
                        }
                        digest.digest128()
                    }
                };
                (prefix, digest)
            }
        };
        let truncated = self.len > prefix.len() as u64;
        (prefix, truncated, format!("{digest:032x}"))
    }
}

impl Streaming {
    fn update(&mut self, cap: usize, data: &[u8]) {
        let room = cap.saturating_sub(self.prefix.len());
        self.prefix.extend_from_slice(&data[..room.min(data.len())]);
        self.digest.update(data);
    }
}

pub(crate) enum Sink {
    /// Not recorded: the body passes untouched.
    Off,
    /// A request body: the tap is shared with the pending exchange, which
    /// reads it when the response ends.
    Request(Arc<Mutex<Tap>>),
    /// A response body: ending it finishes the exchange.
    Response {
        tap: Box<Tap>,
        pending: Option<Box<Pending>>,
        /// Set when the inner body reported its end without being polled
        /// to it (hyper stops at `is_end_stream`).
        ended: AtomicBool,
    },
}

impl Sink {
    fn with_tap(&mut self, f: impl FnOnce(&mut Tap)) {
        match self {
            Sink::Request(tap) => f(&mut tap.lock().unwrap_or_else(PoisonError::into_inner)),
            Sink::Response { tap, .. } => f(tap),
            Sink::Off => {}
        }
    }

    fn push<D: Buf + 'static>(&mut self, data: &D) {
        if let Some(bytes) = (data as &dyn std::any::Any).downcast_ref::<Bytes>() {
            self.with_tap(|tap| tap.push_bytes(bytes));
            return;
        }
        self.with_tap(|tap| {
            let mut slices = [std::io::IoSlice::new(&[]); 16];
            let n = data.chunks_vectored(&mut slices);
            for slice in &slices[..n] {
                tap.push(slice);
            }
        });
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Sink::Response { tap, pending, .. } = self
            && let Some(pending) = pending.take()
        {
            pending.finish(Some(tap), outcome);
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let outcome = match self {
            Sink::Response { ended, .. } if ended.load(Ordering::Relaxed) => Outcome::Complete,
            _ => Outcome::Aborted,
        };
        self.finish(outcome);
    }
}

pin_project_lite::pin_project! {
    /// A request or response body whose bytes the recorder sees as they pass:
    /// frames are held by reference up to 64 KiB, then a prefix up to the
    /// cap is copied and the rest counted and hashed; no frame waits for the
    /// recorder.
    pub struct RecordBody<B> {
        #[pin]
        inner: B,
        sink: Sink,
    }
}

impl<B> std::fmt::Debug for RecordBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordBody").finish_non_exhaustive()
    }
}

impl<B> RecordBody<B> {
    pub(crate) fn request(inner: B, tap: Arc<Mutex<Tap>>) -> Self {
        Self {
            inner,
            sink: Sink::Request(tap),
        }
    }

    pub(crate) fn off(inner: B) -> Self {
        Self {
            inner,
            sink: Sink::Off,
        }
    }

    pub(crate) fn response(inner: B, cap: usize, pending: Box<Pending>) -> Self {
        Self {
            inner,
            sink: Sink::Response {
                tap: Box::new(Tap::new(cap)),
                pending: Some(pending),
                ended: AtomicBool::new(false),
            },
        }
    }
}

impl<B: Body> Body for RecordBody<B>
where
    B::Data: 'static,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        match ready!(this.inner.as_mut().poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    this.sink.push(data);
                }
                if this.inner.is_end_stream() {
                    this.sink.finish(Outcome::Complete);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => {
                this.sink.finish(Outcome::Aborted);
                Poll::Ready(Some(Err(error)))
            }
            None => {
                this.sink.finish(Outcome::Complete);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end && let Sink::Response { ended, .. } = &self.sink {
            ended.store(true, Ordering::Relaxed);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// Feeds `data` in frames of `frame` bytes, as `Bytes` or as slices.
    fn tapped(
        cap: usize,
        data: &[u8],
        frame: usize,
        as_bytes: bool,
    ) -> (Tap, Vec<u8>, bool, String) {
        let mut tap = Tap::new(cap);
        for chunk in data.chunks(frame) {
            if as_bytes {
                tap.push_bytes(&Bytes::copy_from_slice(chunk));
            } else {
                tap.push(chunk);
            }
        }
        let (prefix, truncated, digest) = tap.finish();
        (tap, prefix, truncated, digest)
    }

    #[test]
    fn held_streamed_and_caught_up_bodies_give_the_same_record() {
        let cap = 1000;
        for len in [
            0,
            1,
            999,
            1000,
            1001,
            HOLD - 1,
            HOLD,
            HOLD + 1,
            3 * HOLD + 17,
        ] {
            let data = body(len);
            let want = format!("{:032x}", xxh3_128(&data));
            for frame in [1 << 20, 4096, 333] {
                for as_bytes in [true, false] {
                    let (tap, prefix, truncated, digest) = tapped(cap, &data, frame, as_bytes);
                    let case = format!("len {len}, frames of {frame}, bytes {as_bytes}");
                    assert_eq!(tap.len, len as u64, "{case}");
                    assert_eq!(prefix, data[..len.min(cap)], "{case}");
                    assert_eq!(truncated, len > cap, "{case}");
                    assert_eq!(digest, want, "{case}");
                }
            }
        }
    }

    #[test]
    fn bodies_within_the_hold_are_kept_by_reference_then_copied_past_it() {
        let mut tap = Tap::new(10);
        let frame = Bytes::from(body(HOLD / 2));
        tap.push_bytes(&frame);
        tap.push_bytes(&frame);
        assert!(
            tap.streaming.is_none(),
            "a body within the hold is not copied"
        );
        assert_eq!(tap.held.len(), 2);
        assert_eq!(tap.held[0].as_ptr(), frame.as_ptr(), "held by reference");
        tap.push_bytes(&Bytes::from_static(b"x"));
        assert!(tap.streaming.is_some(), "past the hold, copied and hashed");
        assert!(tap.held.is_empty(), "the held frames are released");
        assert_eq!(tap.streaming.as_ref().map(|s| s.prefix.len()), Some(10));
    }
}
