//! Response compression through the public API.
// These tests negotiate every coding; `tests/config.rs` covers a coding
// whose feature is off.
#![cfg(all(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{ChannelBody, collect, decode, get_with, json, noise, response as canned, send};
use http::header::{
    ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use http::{HeaderMap, Method, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use strata_compression::{CompressionLayer, ContentTypes, Encoding, SkipReason};
use tower::{ServiceBuilder, ServiceExt, service_fn};

fn vary(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(VARY)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_ascii_lowercase())
        .collect()
}

fn skip_reason<B>(response: &Response<B>) -> Option<SkipReason> {
    response.extensions().get::<SkipReason>().copied()
}

#[tokio::test]
async fn round_trips_every_codec_in_memory_with_content_length() {
    let original = json(16 * 1024);
    for coding in ["br", "zstd", "gzip", "deflate"] {
        let response = send(
            CompressionLayer::new(),
            get_with(&[("accept-encoding", coding)]),
            canned("application/json", original.clone()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_ENCODING], coding);
        assert_eq!(vary(response.headers()), ["accept-encoding"]);
        let length: usize = response.headers()[CONTENT_LENGTH]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("number");
        let (body, _) = collect(response.into_body()).await;
        assert_eq!(body.len(), length, "{coding}: Content-Length matches");
        assert!(body.len() < original.len() / 3, "{coding} compresses JSON");
        assert_eq!(decode(coding, &body).await, original, "{coding} round trip");
    }
}

#[tokio::test]
async fn round_trips_a_large_streamed_body_without_content_length() {
    let original = json(300 * 1024);
    for coding in ["br", "zstd", "gzip", "deflate"] {
        let (tx, body) = ChannelBody::new();
        let chunks: Vec<Bytes> = original
            .chunks(10_000)
            .map(Bytes::copy_from_slice)
            .collect();
        tokio::spawn(async move {
            for chunk in chunks {
                tx.send(Frame::data(chunk)).await.expect("receiver alive");
            }
        });
        let response = send(
            CompressionLayer::new(),
            get_with(&[("accept-encoding", coding)]),
            Response::builder()
                .header(CONTENT_TYPE, "text/plain")
                .header(ACCEPT_RANGES, "bytes")
                .body(body)
                .expect("response"),
        )
        .await;
        assert_eq!(response.headers()[CONTENT_ENCODING], coding);
        assert!(!response.headers().contains_key(CONTENT_LENGTH));
        assert!(!response.headers().contains_key(ACCEPT_RANGES));
        let (body, _) = collect(response.into_body()).await;
        assert_eq!(decode(coding, &body).await, original, "{coding} round trip");
    }
}

#[tokio::test]
async fn a_known_length_body_larger_than_the_buffer_is_streamed() {
    let original = json(200 * 1024);
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/html", original.clone()),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert!(!response.headers().contains_key(CONTENT_LENGTH));
    let (body, _) = collect(response.into_body()).await;
    assert_eq!(decode("gzip", &body).await, original);
}

#[tokio::test]
async fn negotiation_follows_q_values_and_server_preference() {
    let cases: &[(&str, Option<&str>)] = &[
        ("gzip, deflate, br, zstd", Some("br")),
        ("gzip;q=1, br;q=0.9", Some("gzip")),
        ("*;q=0.1, zstd;q=0", Some("br")),
        ("GZip", Some("gzip")),
        ("identity", None),
        ("br;q=0, gzip;q=0, zstd;q=0, deflate;q=0", None),
        ("gzip;q=nonsense, ;;, zstd", Some("zstd")),
    ];
    for (accept, expected) in cases {
        let response = send(
            CompressionLayer::new(),
            get_with(&[("accept-encoding", accept)]),
            canned("application/json", json(4096)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            response
                .headers()
                .get(CONTENT_ENCODING)
                .map(|v| v.to_str().expect("ascii")),
            *expected,
            "Accept-Encoding: {accept}"
        );
        assert_eq!(vary(response.headers()), ["accept-encoding"], "{accept}");
    }

    let layer = CompressionLayer::builder()
        .prefer([Encoding::Zstd, Encoding::Gzip])
        .build()
        .expect("valid");
    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip, br, zstd")]),
        canned("application/json", json(4096)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "zstd");
}

#[tokio::test]
async fn several_accept_encoding_headers_combine() {
    let response = send(
        CompressionLayer::new(),
        get_with(&[
            ("accept-encoding", "gzip;q=0.5"),
            ("accept-encoding", "zstd"),
        ]),
        canned("application/json", json(4096)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "zstd");
}

#[tokio::test]
async fn junk_accept_encoding_never_fails() {
    let mut request = get_with(&[]);
    for junk in [
        &b"\xff\xfe gzip"[..],
        b";q=;q=,,,",
        b"gzip;q=1;q=0.5;q",
        b"*;q=-1",
        b"br;q=0.5.5",
    ] {
        request.headers_mut().append(
            "accept-encoding",
            http::HeaderValue::from_bytes(junk).expect("opaque"),
        );
    }
    let response = send(
        CompressionLayer::new(),
        request,
        canned("text/plain", json(4096)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    // "gzip;q=1;q=0.5;q" is malformed, the rest offers nothing valid.
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    let (body, _) = collect(response.into_body()).await;
    assert_eq!(body, json(4096));
}

/// Sends a 4 KiB compressible body with extra response headers and returns
/// the response, the body and the reason.
async fn skipped(
    status: StatusCode,
    headers: &[(&str, &str)],
    body: Bytes,
) -> (Response<()>, Bytes, Option<SkipReason>) {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip, br")]),
        builder.body(Full::new(body)).expect("response"),
    )
    .await;
    let reason = skip_reason(&response);
    let (parts, body) = response.into_parts();
    let (body, _) = collect(body).await;
    (Response::from_parts(parts, ()), body, reason)
}

type SkipCase = (StatusCode, Vec<(&'static str, &'static str)>, SkipReason);

#[tokio::test]
async fn each_skip_reason_leaves_the_body_untouched() {
    let body = json(4096);
    let cases: Vec<SkipCase> = vec![
        (
            StatusCode::OK,
            vec![("content-type", "image/png")],
            SkipReason::ContentType,
        ),
        (
            StatusCode::OK,
            vec![("content-type", "application/zip")],
            SkipReason::ContentType,
        ),
        (StatusCode::OK, vec![], SkipReason::ContentType),
        (
            StatusCode::OK,
            vec![("content-type", "text/plain"), ("content-encoding", "gzip")],
            SkipReason::AlreadyEncoded,
        ),
        (
            StatusCode::PARTIAL_CONTENT,
            vec![
                ("content-type", "text/plain"),
                ("content-range", "bytes 0-4095/9000"),
            ],
            SkipReason::Range,
        ),
        (
            StatusCode::OK,
            vec![
                ("content-type", "text/plain"),
                ("cache-control", "public, no-transform"),
            ],
            SkipReason::NoTransform,
        ),
        (
            StatusCode::OK,
            vec![("content-type", "text/event-stream")],
            SkipReason::EventStream,
        ),
        (
            StatusCode::OK,
            vec![("content-type", "application/grpc+proto")],
            SkipReason::Grpc,
        ),
        (
            StatusCode::NO_CONTENT,
            vec![("content-type", "text/plain")],
            SkipReason::NoContent,
        ),
    ];
    for (status, headers, expected) in cases {
        let (response, sent, reason) = skipped(status, &headers, body.clone()).await;
        assert_eq!(reason, Some(expected), "{headers:?}");
        assert_eq!(response.status(), status);
        if expected != SkipReason::AlreadyEncoded {
            assert!(
                !response.headers().contains_key(CONTENT_ENCODING),
                "{headers:?}"
            );
        }
        // The response itself rules compression out: no Vary needed.
        assert!(vary(response.headers()).is_empty(), "{headers:?}");
        assert_eq!(sent, body, "{headers:?}");
    }
}

#[tokio::test]
async fn small_bodies_are_not_compressed_whether_length_is_known_or_not() {
    let small = json(600);
    let (response, sent, reason) = skipped(
        StatusCode::OK,
        &[("content-type", "text/plain")],
        small.clone(),
    )
    .await;
    assert_eq!(reason, Some(SkipReason::TooSmall));
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    assert_eq!(vary(response.headers()), ["accept-encoding"]);
    assert_eq!(sent, small);

    // A small body streamed in pieces, length unknown: buffered, then sent as is.
    let (tx, body) = ChannelBody::new();
    for piece in small.chunks(100) {
        tx.send(Frame::data(Bytes::copy_from_slice(piece)))
            .await
            .expect("open");
    }
    drop(tx);
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        Response::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(body)
            .expect("response"),
    )
    .await;
    assert_eq!(skip_reason(&response), Some(SkipReason::TooSmall));
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    assert_eq!(response.headers()[CONTENT_LENGTH], "600");
    let (sent, _) = collect(response.into_body()).await;
    assert_eq!(sent, small);
}

#[tokio::test]
async fn min_size_is_configurable() {
    let layer = CompressionLayer::builder()
        .min_size(100)
        .build()
        .expect("valid");
    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/plain", json(600)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn only_if_smaller_sends_incompressible_bodies_as_they_are() {
    let random = noise(8192);
    let (response, sent, reason) = skipped(
        StatusCode::OK,
        &[("content-type", "text/plain")],
        random.clone(),
    )
    .await;
    assert_eq!(reason, Some(SkipReason::NotSmaller));
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    assert_eq!(response.headers()[CONTENT_LENGTH], "8192");
    assert_eq!(sent, random);

    let layer = CompressionLayer::builder()
        .only_if_smaller(false)
        .build()
        .expect("valid");
    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/plain", random.clone()),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let (sent, _) = collect(response.into_body()).await;
    assert!(sent.len() > random.len());
    assert_eq!(decode("gzip", &sent).await, random);
}

#[tokio::test]
async fn content_types_are_configurable() {
    let layer = CompressionLayer::builder()
        .content_types(ContentTypes::empty().allow("application/x-custom"))
        .build()
        .expect("valid");
    let response = send(
        layer.clone(),
        get_with(&[("accept-encoding", "gzip")]),
        canned("application/x-custom", json(4096)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/html", json(4096)),
    )
    .await;
    assert_eq!(skip_reason(&response), Some(SkipReason::ContentType));
}

#[tokio::test]
async fn no_accept_encoding_sends_identity_with_vary() {
    let response = send(
        CompressionLayer::new(),
        get_with(&[]),
        canned("text/html", json(4096)),
    )
    .await;
    assert_eq!(skip_reason(&response), Some(SkipReason::NotAccepted));
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    assert_eq!(vary(response.headers()), ["accept-encoding"]);
}

#[tokio::test]
async fn vary_is_not_duplicated_when_the_handler_set_it() {
    let mut handler_response = canned("text/html", json(4096));
    handler_response.headers_mut().insert(
        VARY,
        http::HeaderValue::from_static("Origin, Accept-Encoding"),
    );
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        handler_response,
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(vary(response.headers()), ["origin, accept-encoding"]);
}

/// A handler with ETag `"v1"` that honours `If-None-Match`, as an
/// application would.
fn etag_service(
    layer: CompressionLayer,
) -> impl tower::Service<
    http::Request<Full<Bytes>>,
    Response = Response<strata_compression::CompressionBody<Full<Bytes>>>,
    Error = std::convert::Infallible,
> {
    ServiceBuilder::new().layer(layer).service(service_fn(
        |request: http::Request<Full<Bytes>>| async move {
            let matches = request.headers().get(IF_NONE_MATCH).is_some_and(|v| {
                v.to_str()
                    .expect("ascii")
                    .split(',')
                    .any(|t| t.trim() == "\"v1\"")
            });
            let builder = Response::builder()
                .header(ETAG, "\"v1\"")
                .header(CONTENT_TYPE, "application/json");
            let response = if matches {
                builder
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Full::new(Bytes::new()))
            } else {
                builder
                    .header(ACCEPT_RANGES, "bytes")
                    .body(Full::new(json(4096)))
            };
            Ok::<_, std::convert::Infallible>(response.expect("response"))
        },
    ))
}

#[tokio::test]
async fn etag_and_vary_on_200_304_and_head() {
    // 200: the compressed variant has its own strong ETag.
    let response = etag_service(CompressionLayer::new())
        .oneshot(get_with(&[("accept-encoding", "gzip")]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ETAG], "\"v1-gzip\"");
    assert_eq!(vary(response.headers()), ["accept-encoding"]);
    assert!(!response.headers().contains_key(ACCEPT_RANGES));

    // Revalidating the compressed variant: the handler sees its own tag and
    // answers 304, which carries the variant's tag and Vary.
    let response = etag_service(CompressionLayer::new())
        .oneshot(get_with(&[
            ("accept-encoding", "gzip"),
            ("if-none-match", "\"v1-gzip\""),
        ]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()[ETAG], "\"v1-gzip\"");
    assert_eq!(vary(response.headers()), ["accept-encoding"]);

    // A client holding the gzip variant that now negotiates br gets the full br variant.
    let response = etag_service(CompressionLayer::new())
        .oneshot(get_with(&[
            ("accept-encoding", "br"),
            ("if-none-match", "\"v1-gzip\""),
        ]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ETAG], "\"v1-br\"");

    // A client holding the identity variant revalidates it unchanged.
    let response = etag_service(CompressionLayer::new())
        .oneshot(get_with(&[("if-none-match", "\"v1\"")]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()[ETAG], "\"v1\"");
    assert_eq!(vary(response.headers()), ["accept-encoding"]);

    // HEAD carries the headers the GET would.
    let mut head = get_with(&[("accept-encoding", "gzip")]);
    *head.method_mut() = Method::HEAD;
    let response = etag_service(CompressionLayer::new())
        .oneshot(head)
        .await
        .expect("infallible");
    assert_eq!(skip_reason(&response), Some(SkipReason::Head));
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(response.headers()[ETAG], "\"v1-gzip\"");
    assert_eq!(vary(response.headers()), ["accept-encoding"]);
    assert!(!response.headers().contains_key(CONTENT_LENGTH));
    assert!(!response.headers().contains_key(ACCEPT_RANGES));
}

#[tokio::test]
async fn weak_etags_are_kept() {
    let mut handler_response = canned("text/html", json(4096));
    handler_response
        .headers_mut()
        .insert(ETAG, http::HeaderValue::from_static("W/\"v1\""));
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        handler_response,
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(response.headers()[ETAG], "W/\"v1\"");
}

#[tokio::test(start_paused = true)]
async fn a_slow_stream_reaches_the_client_chunk_by_chunk() {
    let start = tokio::time::Instant::now();
    let (tx, body) = ChannelBody::new();
    let pieces: Vec<Bytes> = (0..3).map(|i| json(2048 + i)).collect();
    let produced = pieces.clone();
    tokio::spawn(async move {
        for piece in produced {
            tx.send(Frame::data(piece)).await.expect("open");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        Response::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(body)
            .expect("response"),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let mut body = response.into_body();
    let mut decoder = async_compression::tokio::write::GzipDecoder::new(Vec::new());
    let mut expected = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        expected.extend_from_slice(piece);
        // Everything produced so far decodes before the producer's next pause ends.
        while decoder.get_ref().len() < expected.len() {
            let frame = body.frame().await.expect("more frames").expect("no error");
            let data = frame.into_data().expect("data");
            tokio::io::AsyncWriteExt::write_all(&mut decoder, &data)
                .await
                .expect("decodes");
            tokio::io::AsyncWriteExt::flush(&mut decoder)
                .await
                .expect("decodes");
        }
        assert_eq!(decoder.get_ref()[..], expected[..], "piece {i}");
        assert_eq!(
            start.elapsed().as_secs(),
            i as u64,
            "piece {i} arrived when produced"
        );
    }
    let (rest, _) = collect(body).await;
    tokio::io::AsyncWriteExt::write_all(&mut decoder, &rest)
        .await
        .expect("decodes");
    tokio::io::AsyncWriteExt::shutdown(&mut decoder)
        .await
        .expect("complete stream");
    assert_eq!(decoder.into_inner(), expected);
}

#[tokio::test]
async fn trailers_pass_through_compressed_bodies() {
    for size in [4096, 200 * 1024] {
        let (tx, body) = ChannelBody::new();
        let data = json(size);
        let sent = data.clone();
        tokio::spawn(async move {
            tx.send(Frame::data(sent)).await.expect("open");
            let mut trailers = HeaderMap::new();
            trailers.insert("x-checksum", http::HeaderValue::from_static("abc"));
            tx.send(Frame::trailers(trailers)).await.expect("open");
        });
        let response = send(
            CompressionLayer::new(),
            get_with(&[("accept-encoding", "zstd")]),
            Response::builder()
                .header(CONTENT_TYPE, "text/plain")
                .body(body)
                .expect("response"),
        )
        .await;
        assert_eq!(response.headers()[CONTENT_ENCODING], "zstd");
        assert!(!response.headers().contains_key(CONTENT_LENGTH));
        let (compressed, trailers) = collect(response.into_body()).await;
        assert_eq!(decode("zstd", &compressed).await, data);
        assert_eq!(
            trailers.expect("trailers")["x-checksum"],
            "abc",
            "size {size}"
        );
    }
}

#[tokio::test]
async fn event_streams_are_flushed_per_event_when_enabled() {
    let layer = CompressionLayer::builder()
        .event_stream(true)
        .build()
        .expect("valid");
    let (tx, body) = ChannelBody::new();
    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip")]),
        Response::builder()
            .header(CONTENT_TYPE, "text/event-stream")
            .body(body)
            .expect("response"),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let mut body = response.into_body();
    let mut decoder = async_compression::tokio::write::GzipDecoder::new(Vec::new());
    for i in 0..3 {
        let event = format!("data: event {i}\n\n");
        tx.send(Frame::data(Bytes::from(event.clone())))
            .await
            .expect("open");
        let frame = body.frame().await.expect("a frame").expect("no error");
        tokio::io::AsyncWriteExt::write_all(&mut decoder, frame.data_ref().expect("data"))
            .await
            .expect("decodes");
        tokio::io::AsyncWriteExt::flush(&mut decoder)
            .await
            .expect("decodes");
        assert!(
            String::from_utf8_lossy(decoder.get_ref()).ends_with(&event),
            "event {i} decodes on its own"
        );
    }
    drop(tx);
    assert!(body.is_end_stream() || body.frame().await.is_some());
}

#[tokio::test]
async fn levels_are_per_codec() {
    let body = json(32 * 1024);
    let mut sizes = Vec::new();
    for level in [1, 9] {
        let layer = CompressionLayer::builder()
            .gzip_level(level)
            .build()
            .expect("valid");
        let response = send(
            layer,
            get_with(&[("accept-encoding", "gzip")]),
            canned("text/plain", body.clone()),
        )
        .await;
        let (sent, _) = collect(response.into_body()).await;
        assert_eq!(decode("gzip", &sent).await, body);
        sizes.push(sent.len());
    }
    assert!(
        sizes[1] < sizes[0],
        "level 9 is smaller than level 1: {sizes:?}"
    );
}

#[tokio::test]
async fn disabled_codecs_are_never_chosen() {
    let layer = CompressionLayer::builder()
        .no_br()
        .no_zstd()
        .build()
        .expect("valid");
    let response = send(
        layer,
        get_with(&[("accept-encoding", "br, zstd, gzip;q=0.5")]),
        canned("text/plain", json(4096)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn body_errors_pass_through() {
    #[derive(Debug)]
    struct Failing(bool);
    impl Body for Failing {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.0 {
                return std::task::Poll::Ready(Some(Err(std::io::Error::other("boom"))));
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Ok(Frame::data(json(4096)))))
        }
    }
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "gzip")]),
        Response::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(Failing(false))
            .expect("response"),
    )
    .await;
    let error = response
        .into_body()
        .collect()
        .await
        .expect_err("the body fails");
    assert_eq!(error.to_string(), "boom");
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn metrics_count_bytes_and_skips() {
    use strata_compression::CompressionMetrics;
    let registry = prometheus::Registry::new();
    let layer = CompressionLayer::builder()
        .metrics(CompressionMetrics::register(&registry).expect("registers"))
        .build()
        .expect("valid");
    let body = json(8192);
    let response = send(
        layer.clone(),
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/plain", body.clone()),
    )
    .await;
    let (sent, _) = collect(response.into_body()).await;
    let _ = send(layer, get_with(&[]), canned("image/png", body.clone())).await;

    let families = registry.gather();
    let value = |name: &str, label: &str| -> f64 {
        families
            .iter()
            .find(|f| f.name() == name)
            .and_then(|f| {
                f.get_metric()
                    .iter()
                    .find(|m| m.get_label().iter().any(|l| l.value() == label))
                    .map(|m| m.get_counter().get_value())
            })
            .unwrap_or(-1.0)
    };
    assert_eq!(
        value("strata_compression_bytes_in_total", "gzip"),
        body.len() as f64
    );
    assert_eq!(
        value("strata_compression_bytes_out_total", "gzip"),
        sent.len() as f64
    );
    assert_eq!(
        value("strata_compression_skipped_total", "content_type"),
        1.0
    );
    assert_eq!(value("strata_compression_skipped_total", "too_small"), 0.0);
}

#[tokio::test]
async fn compress_when_can_veto_a_response() {
    let layer = CompressionLayer::builder()
        .compress_when(|response| !response.headers.contains_key("x-no-compression"))
        .build()
        .expect("valid");
    let mut vetoed = canned("text/html", json(4096));
    vetoed
        .headers_mut()
        .insert("x-no-compression", http::HeaderValue::from_static("1"));
    let response = send(
        layer.clone(),
        get_with(&[("accept-encoding", "gzip")]),
        vetoed,
    )
    .await;
    assert_eq!(skip_reason(&response), Some(SkipReason::Predicate));
    assert!(!response.headers().contains_key(CONTENT_ENCODING));
    assert!(vary(response.headers()).is_empty());

    let response = send(
        layer,
        get_with(&[("accept-encoding", "gzip")]),
        canned("text/html", json(4096)),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
}
