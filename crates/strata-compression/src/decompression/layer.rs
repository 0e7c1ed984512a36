//! [`RequestDecompressionLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use super::RequestDecompression;
use super::config::{RequestDecompressionBuilder, Settings};

/// Decodes `Content-Encoding` request bodies: the [`Layer`] producing
/// [`RequestDecompression`] services.
///
/// - br, zstd, gzip (and `x-gzip`) and deflate bodies, per compiled feature,
///   are decoded as the handler reads them; `Content-Encoding` and
///   `Content-Length` are removed from the request.
/// - No `Content-Encoding`, or `identity`: the request passes untouched.
/// - Any other coding, or several codings stacked: **415** problem+json with
///   `Accept-Encoding` listing what is supported; the handler is not called.
/// - A decoded body larger than the cap
///   ([`max_size`](RequestDecompressionBuilder::max_size), default 8 MiB):
///   the body errors with [`DecompressedTooLarge`](super::DecompressedTooLarge) as soon as the cap is
///   passed and the response is **413** problem+json, whatever the handler
///   answered. Decoding is incremental, at most 32 KiB at a time and never
///   more than one byte past the cap in all, so a body that expands to
///   gigabytes never allocates its output.
/// - A corrupt or truncated body: **400** problem+json.
///
/// # Body limits
///
/// The cap counts **decoded** bytes, the bytes the handler reads, whatever
/// layers sit around this one. A body limit outside this layer (such as
/// tower-http's `RequestBodyLimitLayer`) counts the **encoded** bytes on the
/// wire, so a few kilobytes of gzip pass it and decode to megabytes. Set the
/// cap to the body limit of the application:
///
/// ```
/// use strata_compression::RequestDecompressionLayer;
///
/// const MAX_BODY: u64 = 64 * 1024;
/// let layer = RequestDecompressionLayer::builder()
///     .max_size(MAX_BODY)
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestDecompressionLayer {
    settings: Arc<Settings>,
}

impl Default for RequestDecompressionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestDecompressionLayer {
    /// Every compiled coding, an 8 MiB cap.
    pub fn new() -> Self {
        match RequestDecompressionBuilder::default().into_settings() {
            Ok(settings) => Self::from_settings(settings),
            // The defaults hold no setting that can fail.
            Err(_) => unreachable!("the default decompression settings are valid"),
        }
    }

    pub(super) fn from_settings(settings: Settings) -> Self {
        Self {
            settings: Arc::new(settings),
        }
    }

    /// A builder starting from the default settings.
    pub fn builder() -> RequestDecompressionBuilder {
        RequestDecompressionBuilder::default()
    }

    /// The cap on decoded bytes per request body.
    pub fn max_size(&self) -> u64 {
        self.settings.max_size
    }
}

impl<S> Layer<S> for RequestDecompressionLayer {
    type Service = RequestDecompression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestDecompression::new(inner, Arc::clone(&self.settings))
    }
}
