//! Response compression and request decompression for tower, axum and hyper.

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod body;
mod codec;
mod decompression;
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
pub use self::decompression::{
    DEFAULT_MAX_DECOMPRESSED_SIZE, DecompressedTooLarge, DecompressionBody, DecompressionFuture,
    DecompressionResponseBody, RequestDecompression, RequestDecompressionLayer,
};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::layer::{CompressionBuilder, CompressionLayer, DEFAULT_BUFFER_SIZE, DEFAULT_MIN_SIZE};
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::metrics::CompressionMetrics;
#[doc(inline)]
pub use self::predicate::ContentTypes;
#[doc(inline)]
pub use self::service::Compression;
#[doc(inline)]
pub use self::skip::SkipReason;
