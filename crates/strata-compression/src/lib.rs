//! Response compression and request decompression for tower, axum and hyper.
//!
//! [`CompressionLayer`] compresses responses with br, zstd, gzip or deflate,
//! chosen from the request's `Accept-Encoding`; [`RequestDecompressionLayer`]
//! decodes compressed request bodies under a size cap. Both run on the
//! codecs of `async-compression`.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use strata_compression::CompressionLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[cfg(feature = "br")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let json = Bytes::from(r#"{"id":1,"name":"item"},"#.repeat(200));
//! let body = json.clone();
//! let service = ServiceBuilder::new()
//!     .layer(CompressionLayer::new())
//!     .service_fn(move |_: Request<Full<Bytes>>| {
//!         let body = body.clone();
//!         async move {
//!             Response::builder()
//!                 .header("content-type", "application/json")
//!                 .header("etag", "\"v7\"")
//!                 .body(Full::new(body))
//!         }
//!     });
//!
//! let request = Request::builder()
//!     .header("accept-encoding", "gzip;q=0.8, br")
//!     .body(Full::default())?;
//! let response = service.oneshot(request).await?;
//!
//! assert_eq!(response.headers()["content-encoding"], "br");
//! assert_eq!(response.headers()["vary"], "accept-encoding");
//! assert_eq!(response.headers()["etag"], "\"v7-br\"");
//! let compressed = response.into_body().collect().await?.to_bytes();
//! assert!(compressed.len() < json.len() / 10);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "br"))]
//! # fn main() {}
//! ```
//!
//! With axum, add the layers to the router, request decompression too:
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use strata_compression::{CompressionLayer, RequestDecompressionLayer};
//!
//! let app: Router = Router::new()
//!     .route("/api/items", post(|body: String| async move { body }))
//!     .layer(RequestDecompressionLayer::builder().max_size(64 * 1024).build().expect("cap"))
//!     .layer(CompressionLayer::new());
//! ```
//!
//! # What gets compressed
//!
//! A response is compressed when all of these hold; otherwise it is sent
//! unchanged and its [`SkipReason`] is stored in its extensions:
//!
//! - the client accepts an offered coding (negotiation below);
//! - the status has content: not 1xx, 204 or 304, and not 206 or a
//!   response with `Content-Range`;
//! - it has no `Content-Encoding` yet and no `Cache-Control: no-transform`;
//! - its `Content-Type` is on the [`ContentTypes`] allow-list (text, JSON,
//!   JavaScript, XML, SVG, wasm, ...), it is not gRPC, and it is not
//!   `text/event-stream` unless [`CompressionBuilder::event_stream`] is on
//!   (then every event frame is flushed);
//! - the [`compress_when`](CompressionBuilder::compress_when) predicate, if
//!   set, allows it;
//! - the body is at least [`min_size`](CompressionBuilder::min_size) (1 KiB).
//!   A body of unknown length is buffered up to that size before deciding,
//!   so a tiny streamed body is sent as it is.
//!
//! # Negotiation
//!
//! All `Accept-Encoding` headers are read, names ignore case, `x-gzip` is
//! gzip, malformed entries are skipped (never an error). The highest
//! q-value wins; equal q-values go to the server order
//! ([`prefer`](CompressionBuilder::prefer), default br, zstd, gzip,
//! deflate). Identity is used when the client weights it (by name or `*`)
//! above every coding. Without `Accept-Encoding`, nothing is compressed.
//! When the client rules out identity (`identity;q=0`, or `*;q=0` without
//! identity) and accepts no offered coding, the response is sent as it is
//! ([`SkipReason::NotAccepted`], with `Vary`), as RFC 9110 section 12.5.3
//! allows: never a 406. The inner service is always called, whatever
//! `Accept-Encoding` says, so a handler's side effects always happen.
//!
//! # Headers
//!
//! - `Content-Encoding` is set. A body compressed in one piece (it ended
//!   within [`buffer_size`](CompressionBuilder::buffer_size), 64 KiB) gets
//!   its `Content-Length`; a streamed one has none. `Accept-Ranges` is
//!   removed.
//! - **ETag scheme**: a strong ETag `"abc"` becomes `"abc-br"` (`-zstd`,
//!   `-gzip`, `-deflate`) on the compressed variant, since its bytes differ.
//!   Weak ETags are kept. In requests, `If-None-Match` and `If-Match` entries
//!   naming the negotiated variant (`"abc-br"` while negotiating br) are
//!   rewritten to `"abc"` before the inner service sees them, so its own
//!   conditional logic works; a 304 then carries the variant's tag. These
//!   lists are read as entity-tags (a tag may contain a comma); a value
//!   that does not parse is passed on untouched.
//! - `Vary: Accept-Encoding` is appended, once (never when a `Vary` already
//!   names it or is `*`), on every response whose form depends on
//!   negotiation: compressed, not accepted, too small or not smaller, and
//!   on 304 and `HEAD` responses, whose headers match the `GET` they stand
//!   for (a `HEAD` gets the `Content-Encoding` and ETag a `GET` would, and no
//!   `Content-Length`).
//!
//! # Streaming and memory
//!
//! Per response, at most `buffer_size` bytes of input (default 64 KiB) plus
//! their compressed form are held. The layer reads whatever the body has
//! ready up to that size; a body that ends there is compressed in one
//! piece (then only-if-smaller applies). A larger body, or one that pauses
//! after the minimum size, is compressed as it streams, and whenever the
//! inner body has nothing ready the encoder is flushed, so a slow stream
//! reaches the client as it is produced. Trailers pass through.
//!
//! # Request decompression
//!
//! See [`RequestDecompressionLayer`]: unknown codings get **415** with
//! `Accept-Encoding`, a decoded body past the cap (default 8 MiB) gets
//! **413**, decoded 32 KiB at a time so a zip bomb never allocates its output.
//!
//! A body limit outside decompression (tower-http's `RequestBodyLimitLayer`,
//! a proxy's) bounds the **encoded** bytes; the decompression cap bounds the
//! **decoded** bytes the handler reads. Set the cap to the application's
//! body limit with
//! [`RequestDecompressionLayer::builder().max_size(..)`](RequestDecompressionBuilder::max_size):
//! otherwise a few kilobytes of gzip under a 64 KiB limit decode to
//! megabytes.
//!
//! # Configuration
//!
//! `new()` is the production default; anything else goes through
//! [`CompressionLayer::builder`] or [`RequestDecompressionLayer::builder`],
//! whose setters never fail: [`build`](CompressionBuilder::build) checks
//! everything and reports the first problem as a
//! [`strata_core::ConfigError`] naming the setting. A coding turned on (or
//! given a level) whose cargo feature is off is
//! [`ConfigError::FeatureDisabled`](strata_core::ConfigError::FeatureDisabled),
//! never silently dropped.
//!
//! # Feature flags
//!
//! - `br`, `zstd`, `gzip`, `deflate` (all default): the codings.
//! - `prometheus`: `CompressionMetrics`, bytes in/out per coding and skips
//!   by reason, registered into your `prometheus::Registry` with
//!   `CompressionMetrics::register` (enables `strata-core/prometheus`).
//!
//! # Deployment
//!
//! Put compression inside a response cache, so the cache stores compressed
//! variants (its key must include the negotiated coding, which `Vary`
//! announces) and a hit costs no compression. Levels per coding default to
//! br 4, zstd 3, gzip 4, deflate 4, chosen from the measurements in
//! `docs/compression.md`.
//!
//! # Security
//!
//! Compressing a response that mixes a secret with attacker-controlled text
//! in one body leaks the secret through its length (BREACH). Exclude such
//! responses with `Cache-Control: no-transform` or a narrower
//! [`ContentTypes`] list.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Built without any coding, the layers only pass bodies through.
#![cfg_attr(
    not(any(
        feature = "br",
        feature = "zstd",
        feature = "gzip",
        feature = "deflate"
    )),
    allow(unused)
)]

mod body;
mod codec;
mod config;
pub mod decompression;
mod etag;
mod future;
mod headers;
mod layer;
mod metrics;
mod negotiate;
mod predicate;
mod service;
mod skip;

/// The error type of the bodies this crate produces.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[doc(inline)]
pub use self::body::CompressionBody;
#[doc(inline)]
pub use self::codec::Encoding;
#[doc(inline)]
pub use self::config::{CompressionBuilder, DEFAULT_BUFFER_SIZE, DEFAULT_MIN_SIZE};
#[doc(inline)]
pub use self::decompression::{
    DEFAULT_MAX_DECOMPRESSED_SIZE, DecompressedTooLarge, DecompressionBody,
    DecompressionResponseBody, RequestDecompression, RequestDecompressionBuilder,
    RequestDecompressionLayer,
};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::layer::CompressionLayer;
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::metrics::CompressionMetrics;
#[doc(inline)]
pub use self::predicate::ContentTypes;
#[doc(inline)]
pub use self::service::Compression;
#[doc(inline)]
pub use self::skip::SkipReason;

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
