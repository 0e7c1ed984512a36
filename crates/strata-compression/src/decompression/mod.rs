//! Request decompression: [`RequestDecompressionLayer`] and the types its
//! services use.

mod body;
mod config;
mod future;
mod layer;
mod service;

pub use self::body::{DecompressedTooLarge, DecompressionBody};
pub use self::config::{DEFAULT_MAX_DECOMPRESSED_SIZE, RequestDecompressionBuilder};
pub use self::future::{DecompressionResponseBody, ResponseFuture};
pub use self::layer::RequestDecompressionLayer;
pub use self::service::RequestDecompression;
