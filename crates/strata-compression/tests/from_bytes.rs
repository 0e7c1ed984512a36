//! Layers outside compression that answer on their own (a rate limiter's 429,
//! a health probe) build the compression body types from bytes.

use bytes::Bytes;
use http_body::Body;
use http_body_util::Full;
use strata_compression::{CompressionBody, DecompressionResponseBody};
use strata_testkit::body_bytes;

#[tokio::test]
async fn compression_body_from_bytes_is_sent_as_is() {
    let body = CompressionBody::<Full<Bytes>>::from(Bytes::from_static(b"too many requests"));
    assert_eq!(body.size_hint().exact(), Some(17));
    assert_eq!(body_bytes(body).await, "too many requests");
    let empty = CompressionBody::<Full<Bytes>>::from(Bytes::new());
    assert!(empty.is_end_stream());
}

#[tokio::test]
async fn decompression_body_from_bytes_is_sent_as_is() {
    let body = DecompressionResponseBody::<Full<Bytes>>::from(Bytes::from_static(b"probe"));
    assert_eq!(body_bytes(body).await, "probe");
}
