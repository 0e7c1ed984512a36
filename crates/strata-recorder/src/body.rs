//! [`RecordBody`]: a body teed into the recorder while it streams.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use xxhash_rust::xxh3::Xxh3;

use crate::capture::Pending;
use crate::record::Outcome;

/// What is kept of one body while it streams: a prefix up to the cap, the
/// length and a running XXH3-128 digest. Nothing else is buffered.
pub(crate) struct Tap {
    cap: usize,
    pub(crate) prefix: Vec<u8>,
    pub(crate) len: u64,
    digest: Xxh3,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("cap", &self.cap)
            .field("prefix_len", &self.prefix.len())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Tap {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            prefix: Vec::new(),
            len: 0,
            digest: Xxh3::new(),
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.prefix.len());
        self.prefix.extend_from_slice(&data[..room.min(data.len())]);
        self.len += data.len() as u64;
        self.digest.update(data);
    }

    /// The prefix, whether it is shorter than the body, and the hex
    /// XXH3-128 digest.
    pub(crate) fn finish(&mut self) -> (Vec<u8>, bool, String) {
        let hex = format!("{:032x}", self.digest.digest128());
        let truncated = self.len > self.prefix.len() as u64;
        (std::mem::take(&mut self.prefix), truncated, hex)
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
    fn push(&mut self, data: &[u8]) {
        match self {
            Sink::Request(tap) => tap
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(data),
            Sink::Response { tap, .. } => tap.push(data),
            Sink::Off => {}
        }
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
    /// a prefix up to the cap is copied, the length counted and hashed; no
    /// frame waits for the recorder.
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

impl<B: Body> Body for RecordBody<B> {
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
                    let mut slices = [std::io::IoSlice::new(&[]); 16];
                    let n = data.chunks_vectored(&mut slices);
                    for slice in &slices[..n] {
                        this.sink.push(slice);
                    }
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
