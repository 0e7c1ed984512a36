//! Shared test plumbing: canned handlers, codecs, a channel-fed body.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use http_body_util::Full;
use strata_compression::{BoxError, CompressionBody, CompressionLayer};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// `n` bytes of JSON-like text that compresses the way API responses do.
pub fn json(n: usize) -> Bytes {
    let mut text = String::from("[");
    let mut i = 0;
    while text.len() < n {
        text.push_str(&format!(
            r#"{{"id":{i},"name":"item number {i}","price":{}.{:02},"tags":["alpha","beta"],"in_stock":{}}},"#,
            i * 7 % 1000,
            i % 100,
            i % 3 == 0
        ));
        i += 1;
    }
    text.truncate(n);
    Bytes::from(text)
}

/// `n` bytes that do not compress (a simple xorshift stream).
pub fn noise(n: usize) -> Bytes {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A request with these headers.
pub fn get_with(headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut request = strata_testkit::get("/");
    for (name, value) in headers {
        request.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            http::HeaderValue::from_str(value).expect("value"),
        );
    }
    request
}

/// A response with a content type and a full body.
pub fn response(content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", content_type)
        .body(Full::new(body))
        .expect("response")
}

/// Sends `request` through `layer` to a handler answering `response`.
pub async fn send<B>(
    layer: CompressionLayer,
    request: Request<Full<Bytes>>,
    response: Response<B>,
) -> Response<CompressionBody<B>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut slot = Some(response);
    ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(move |_: Request<Full<Bytes>>| {
            let response = slot.take().expect("the handler runs once");
            async move { Ok::<_, Infallible>(response) }
        }))
        .oneshot(request)
        .await
        .expect("infallible")
}

/// Decodes a whole body.
pub async fn decode(encoding: &str, data: &[u8]) -> Vec<u8> {
    use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
    let mut out = Vec::new();
    match encoding {
        "br" => BrotliDecoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdDecoder::new(data).read_to_end(&mut out).await,
        "gzip" => GzipDecoder::new(data).read_to_end(&mut out).await,
        "deflate" => ZlibDecoder::new(data).read_to_end(&mut out).await,
        other => panic!("unexpected coding {other}"),
    }
    .unwrap_or_else(|error| panic!("the {encoding} body does not decode: {error}"));
    out
}

/// Encodes a whole body.
pub async fn encode(encoding: &str, data: &[u8]) -> Vec<u8> {
    use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
    let mut out = Vec::new();
    match encoding {
        "br" => BrotliEncoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(data).read_to_end(&mut out).await,
        "gzip" => GzipEncoder::new(data).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(data).read_to_end(&mut out).await,
        other => panic!("unexpected coding {other}"),
    }
    .expect("encodes");
    out
}

/// A body fed through a channel: data and trailers as a test sends them,
/// with no known length.
#[derive(Debug)]
pub struct ChannelBody {
    rx: mpsc::Receiver<Frame<Bytes>>,
}

impl ChannelBody {
    pub fn new() -> (mpsc::Sender<Frame<Bytes>>, Self) {
        let (tx, rx) = mpsc::channel(16);
        (tx, Self { rx })
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}

/// Collects data and trailers of a body.
pub async fn collect<B>(body: B) -> (Bytes, Option<HeaderMap>)
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    use http_body_util::BodyExt;
    let collected = body.collect().await.expect("the body failed");
    let trailers = collected.trailers().cloned();
    (collected.to_bytes(), trailers)
}
