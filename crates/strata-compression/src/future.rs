//! [`ResponseFuture`]: decides, per response, whether and how to compress.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http::header::{
    ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderValue,
};
use http::{Response, StatusCode, response::Parts};
use http_body::Body;
use pin_project_lite::pin_project;
use strata_core::headers::essence;

use crate::BoxError;
use crate::body::{Buffered, CompressionBody, Streaming};
use crate::codec::{Encoder, Encoding, OutBuf};
use crate::config::Config;
use crate::headers::{no_transform, variant_etag, vary_accept_encoding};
use crate::negotiate::Negotiated;
use crate::skip::SkipReason;

/// What the request contributed to the decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestInfo {
    pub(crate) negotiated: Negotiated,
    pub(crate) head: bool,
    /// The client's validators named the negotiated compressed variant.
    pub(crate) holds_variant: bool,
}

/// A response whose body is being read to decide.
struct Pending<B> {
    parts: Parts,
    body: Pin<Box<B>>,
    encoding: Encoding,
    buffered: Buffered,
    known_len: Option<u64>,
    event_stream: bool,
}

mod sealed {
    use std::future::Future;

    use http::Response;

    /// A future of an HTTP response: names its body type so
    /// [`ResponseFuture`](super::ResponseFuture) needs only one parameter.
    /// Implemented for every such future; not implementable elsewhere.
    #[allow(unreachable_pub)]
    pub trait ResponseOutput: Future<Output = Result<Response<Self::Body>, Self::Error>> {
        /// The response body.
        type Body;
        /// The error.
        type Error;
    }

    impl<F, B, E> ResponseOutput for F
    where
        F: Future<Output = Result<Response<B>, E>>,
    {
        type Body = B;
        type Error = E;
    }
}

pub(crate) use sealed::ResponseOutput;

pin_project! {
    /// The future of [`Compression`](crate::Compression).
    ///
    /// # Panics
    ///
    /// Polled again after it returned `Ready`.
    pub struct ResponseFuture<F>
    where
        F: ResponseOutput,
    {
        #[pin]
        inner: F,
        info: RequestInfo,
        config: Arc<Config>,
        pending: Option<Pending<F::Body>>,
        done: bool,
    }
}

impl<F: ResponseOutput> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<F: ResponseOutput> ResponseFuture<F> {
    pub(crate) fn new(inner: F, info: RequestInfo, config: Arc<Config>) -> Self {
        Self {
            inner,
            info,
            config,
            pending: None,
            done: false,
        }
    }
}

fn content_type(parts: &Parts) -> &str {
    parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(essence)
        .unwrap_or_default()
}

/// Reasons that do not depend on the request: the response itself rules
/// compression out.
fn intrinsic_skip(parts: &Parts, config: &Config) -> Option<SkipReason> {
    let status = parts.status;
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Some(SkipReason::NoContent);
    }
    if status == StatusCode::PARTIAL_CONTENT || parts.headers.contains_key(CONTENT_RANGE) {
        return Some(SkipReason::Range);
    }
    if parts
        .headers
        .get(CONTENT_ENCODING)
        .is_some_and(|value| !value.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        return Some(SkipReason::AlreadyEncoded);
    }
    if no_transform(&parts.headers) {
        return Some(SkipReason::NoTransform);
    }
    let kind = content_type(parts).to_ascii_lowercase();
    if kind.starts_with("application/grpc") {
        return Some(SkipReason::Grpc);
    }
    let event_stream = kind == "text/event-stream";
    if event_stream && !config.event_stream {
        return Some(SkipReason::EventStream);
    }
    if !event_stream && !config.types.matches(&kind) {
        return Some(SkipReason::ContentType);
    }
    match &config.predicate {
        Some(predicate) if !predicate.allows(parts) => Some(SkipReason::Predicate),
        _ => None,
    }
}

/// Headers of a response sent compressed.
fn set_encoded(parts: &mut Parts, encoding: Encoding, length: Option<usize>) {
    let headers = &mut parts.headers;
    headers.insert(
        CONTENT_ENCODING,
        HeaderValue::from_static(encoding.as_str()),
    );
    headers.remove(ACCEPT_RANGES);
    match length {
        Some(length) => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        None => {
            headers.remove(CONTENT_LENGTH);
        }
    }
    variant_etag(headers, encoding);
}

fn skipped<B>(
    config: &Config,
    reason: SkipReason,
    mut parts: Parts,
    body: CompressionBody<B>,
) -> Response<CompressionBody<B>> {
    config.meter.skipped(reason);
    parts.extensions.insert(reason);
    Response::from_parts(parts, body)
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>> + ResponseOutput<Body = B, Error = E>,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<CompressionBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "`ResponseFuture` polled after completion");
        let poll = decide(this.inner, this.info, this.config, this.pending, cx);
        *this.done = poll.is_ready();
        poll
    }
}

fn decide<F, B, E>(
    inner: Pin<&mut F>,
    info: &RequestInfo,
    config: &Config,
    slot: &mut Option<Pending<B>>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<CompressionBody<B>>, E>>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    {
        let this_pending = slot;
        if let Some(pending) = this_pending.take() {
            return poll_buffer(pending, this_pending, config, cx).map(Ok);
        }
        let response = ready!(inner.poll(cx))?;
        let (mut parts, body) = response.into_parts();
        let info = *info;

        if config.offered.is_empty() {
            return Poll::Ready(Ok(Response::from_parts(
                parts,
                CompressionBody::passthrough(body),
            )));
        }
        if parts.status == StatusCode::NOT_MODIFIED {
            // A 304 stands for the GET the client would make: its headers
            // match the variant the client holds.
            vary_accept_encoding(&mut parts.headers);
            if let (true, Negotiated::Encode(encoding)) = (info.holds_variant, info.negotiated) {
                variant_etag(&mut parts.headers, encoding);
            }
            let body = CompressionBody::passthrough(body);
            return Poll::Ready(Ok(skipped(config, SkipReason::NoContent, parts, body)));
        }
        if let Some(reason) = intrinsic_skip(&parts, config) {
            let body = CompressionBody::passthrough(body);
            return Poll::Ready(Ok(skipped(config, reason, parts, body)));
        }
        // From here on the outcome depends on Accept-Encoding. A client that
        // rules out identity and accepts no offered coding gets the content
        // as it is (RFC 9110, section 12.5.3 lets the server do so): a 406
        // would break clients for no benefit.
        vary_accept_encoding(&mut parts.headers);
        let Negotiated::Encode(encoding) = info.negotiated else {
            let body = CompressionBody::passthrough(body);
            return Poll::Ready(Ok(skipped(config, SkipReason::NotAccepted, parts, body)));
        };
        let known_len = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
            .or_else(|| body.size_hint().exact());
        let too_small = known_len.is_some_and(|len| len < config.min_size as u64);
        if info.head {
            if !too_small {
                set_encoded(&mut parts, encoding, None);
            }
            let body = CompressionBody::passthrough(body);
            return Poll::Ready(Ok(skipped(config, SkipReason::Head, parts, body)));
        }
        if too_small || body.is_end_stream() {
            let body = CompressionBody::passthrough(body);
            return Poll::Ready(Ok(skipped(config, SkipReason::TooSmall, parts, body)));
        }
        let event_stream = content_type(&parts).eq_ignore_ascii_case("text/event-stream");
        let pending = Pending {
            parts,
            body: Box::pin(body),
            encoding,
            buffered: Buffered::default(),
            known_len,
            event_stream,
        };
        poll_buffer(pending, this_pending, config, cx).map(Ok)
    }
}

/// Reads what the body has ready, up to the buffer size, and decides:
/// in memory (complete body), streaming (large, or slow past the minimum),
/// or identity (too small, or not smaller). While undecided, `pending` goes
/// back into `slot`.
fn poll_buffer<B>(
    mut pending: Pending<B>,
    slot: &mut Option<Pending<B>>,
    config: &Config,
    cx: &mut Context<'_>,
) -> Poll<Response<CompressionBody<B>>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let buffered = &mut pending.buffered;
    loop {
        match pending.body.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    let data = data.copy_to_bytes(data.remaining());
                    buffered.len += data.len();
                    buffered.chunks.push_back(data);
                    if buffered.len > config.buffer_size {
                        return Poll::Ready(stream(pending, config));
                    }
                }
                Err(frame) => {
                    buffered.trailers = frame.into_trailers().ok();
                    buffered.ended = true;
                    return Poll::Ready(complete(pending, config));
                }
            },
            Poll::Ready(Some(Err(error))) => {
                // Send what was read, then the error, unchanged.
                buffered.error = Some(error.into());
                buffered.ended = true;
                let body = CompressionBody::identity(None, pending.buffered);
                return Poll::Ready(Response::from_parts(pending.parts, body));
            }
            Poll::Ready(None) => {
                buffered.ended = true;
                return Poll::Ready(complete(pending, config));
            }
            Poll::Pending => {
                let enough = buffered.len >= config.min_size
                    || pending.event_stream
                    || pending.known_len.is_some();
                if enough {
                    return Poll::Ready(stream(pending, config));
                }
                *slot = Some(pending);
                return Poll::Pending;
            }
        }
    }
}

/// Compresses as the body streams: no `Content-Length`.
fn stream<B>(pending: Pending<B>, config: &Config) -> Response<CompressionBody<B>> {
    let Pending {
        mut parts,
        body,
        encoding,
        buffered,
        known_len,
        event_stream,
    } = pending;
    let Some(encoder) = Encoder::new(encoding, config.level(encoding), known_len) else {
        return Response::from_parts(parts, CompressionBody::identity(Some(body), buffered));
    };
    set_encoded(&mut parts, encoding, None);
    parts.extensions.insert(encoding);
    let streaming = Streaming {
        encoding,
        encoder,
        out: OutBuf::with_capacity(16 * 1024),
        flush_each: event_stream,
        dirty: false,
        finished: false,
        bytes_in: 0,
        meter: config.meter.clone(),
    };
    let body = if buffered.ended { None } else { Some(body) };
    Response::from_parts(parts, CompressionBody::encode(body, buffered, streaming))
}

/// The whole body is in memory: compress it in one piece, or send it as is.
fn complete<B>(pending: Pending<B>, config: &Config) -> Response<CompressionBody<B>> {
    let Pending {
        mut parts,
        encoding,
        mut buffered,
        ..
    } = pending;
    let has_trailers = buffered.trailers.is_some();
    let identity = |mut parts: Parts, buffered: Buffered, reason: SkipReason| {
        if !has_trailers && !parts.headers.contains_key(CONTENT_LENGTH) {
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(buffered.len));
        }
        skipped(
            config,
            reason,
            parts,
            CompressionBody::identity(None, buffered),
        )
    };
    if buffered.len < config.min_size {
        return identity(parts, buffered, SkipReason::TooSmall);
    }
    let compressed = Encoder::new(encoding, config.level(encoding), Some(buffered.len as u64))
        .and_then(|mut encoder| {
            let mut out = OutBuf::with_capacity(buffered.len / 3 + 256);
            for chunk in &buffered.chunks {
                encoder.encode(chunk, &mut out).ok()?;
            }
            encoder.finish(&mut out).ok()?;
            Some(out)
        });
    let Some(out) = compressed else {
        return identity(parts, buffered, SkipReason::NotSmaller);
    };
    if config.only_if_smaller && out.len() >= buffered.len {
        return identity(parts, buffered, SkipReason::NotSmaller);
    }
    config
        .meter
        .bytes(encoding, buffered.len as u64, out.len() as u64);
    let length = (!has_trailers).then_some(out.len());
    set_encoded(&mut parts, encoding, length);
    parts.extensions.insert(encoding);
    Response::from_parts(
        parts,
        CompressionBody::full(out.into_bytes(), buffered.trailers.take()),
    )
}
