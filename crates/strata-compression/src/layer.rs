//! [`CompressionLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::{CompressionBuilder, Config};
use crate::service::Compression;

/// Compresses responses: the [`Layer`] producing [`Compression`] services.
///
/// `new()` is ready for production: br, zstd, gzip and deflate (those whose
/// features are on) preferred in that order at the levels of
/// [`Encoding::default_level`](crate::Encoding::default_level), the default
/// [`ContentTypes`](crate::ContentTypes), a 1 KiB minimum size, and
/// only-if-smaller for bodies up to 64 KiB. Change any of it with
/// [`CompressionLayer::builder`].
///
/// Cloning is cheap: the settings sit behind an `Arc`.
#[derive(Debug, Clone)]
pub struct CompressionLayer {
    config: Arc<Config>,
}

impl Default for CompressionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl CompressionLayer {
    /// The layer with the default settings.
    pub fn new() -> Self {
        match CompressionBuilder::default().into_config() {
            Ok(config) => Self::from_config(config),
            // The defaults hold no setting that can fail.
            Err(_) => unreachable!("the default compression settings are valid"),
        }
    }

    /// A builder starting from the default settings.
    pub fn builder() -> CompressionBuilder {
        CompressionBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for CompressionLayer {
    type Service = Compression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Compression::new(inner, Arc::clone(&self.config))
    }
}
