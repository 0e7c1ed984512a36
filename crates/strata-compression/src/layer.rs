//! [`CompressionLayer`] and its builder.

use std::sync::Arc;

use strata_core::ConfigError;
use tower_layer::Layer;

use crate::codec::Encoding;
use crate::metrics::Meter;
use crate::predicate::ContentTypes;
use crate::service::Compression;

/// Default [`CompressionBuilder::min_size`]: 1 KiB.
pub const DEFAULT_MIN_SIZE: usize = 1024;
/// Default [`CompressionBuilder::buffer_size`]: 64 KiB.
pub const DEFAULT_BUFFER_SIZE: usize = 64 * 1024;

/// A user condition on responses, see [`CompressionBuilder::compress_when`].
#[derive(Clone)]
pub(crate) struct Predicate(Arc<dyn Fn(&http::response::Parts) -> bool + Send + Sync>);

impl Predicate {
    pub(crate) fn allows(&self, parts: &http::response::Parts) -> bool {
        (self.0)(parts)
    }
}

impl std::fmt::Debug for Predicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Predicate")
    }
}

/// Settings shared by every clone of a layer and its services.
#[derive(Debug)]
pub(crate) struct Config {
    /// Enabled codings, in server preference order.
    pub(crate) offered: Vec<Encoding>,
    pub(crate) levels: [i32; 4],
    pub(crate) types: ContentTypes,
    pub(crate) min_size: usize,
    pub(crate) buffer_size: usize,
    pub(crate) only_if_smaller: bool,
    pub(crate) event_stream: bool,
    pub(crate) predicate: Option<Predicate>,
    pub(crate) meter: Meter,
}

impl Config {
    pub(crate) fn level(&self, encoding: Encoding) -> i32 {
        self.levels[encoding.index()]
    }
}

/// Compresses responses: the [`Layer`] producing [`Compression`] services.
///
/// `new()` is ready for production: br, zstd, gzip and deflate (those whose
/// features are on) preferred in that order at the levels of
/// [`Encoding::default_level`], the default [`ContentTypes`], a 1 KiB
/// minimum size, and only-if-smaller for bodies up to 64 KiB. Change any of
/// it with [`CompressionLayer::builder`].
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
        Self {
            config: Arc::new(CompressionBuilder::default().into_config()),
        }
    }

    /// A builder starting from the default settings.
    pub fn builder() -> CompressionBuilder {
        CompressionBuilder::default()
    }
}

impl<S> Layer<S> for CompressionLayer {
    type Service = Compression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Compression::new(inner, Arc::clone(&self.config))
    }
}

/// Settings for a [`CompressionLayer`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct CompressionBuilder {
    enabled: [bool; 4],
    preference: Vec<Encoding>,
    levels: [i32; 4],
    types: ContentTypes,
    min_size: usize,
    buffer_size: usize,
    only_if_smaller: bool,
    event_stream: bool,
    predicate: Option<Predicate>,
    meter: Meter,
}

impl Default for CompressionBuilder {
    fn default() -> Self {
        Self {
            enabled: Encoding::ALL.map(Encoding::is_compiled),
            preference: Encoding::ALL.to_vec(),
            levels: Encoding::ALL.map(Encoding::default_level),
            types: ContentTypes::default(),
            min_size: DEFAULT_MIN_SIZE,
            buffer_size: DEFAULT_BUFFER_SIZE,
            only_if_smaller: true,
            event_stream: false,
            predicate: None,
            meter: Meter::default(),
        }
    }
}

macro_rules! codec_setters {
    ($($encoding:ident, $on:ident, $off:ident, $level:ident, $name:literal;)*) => {$(
        #[doc = concat!("Offers ", $name, " (default: on when its feature is).")]
        pub fn $on(mut self, enable: bool) -> Self {
            self.enabled[Encoding::$encoding.index()] = enable;
            self
        }

        #[doc = concat!("Never offers ", $name, ".")]
        pub fn $off(self) -> Self {
            self.$on(false)
        }

        #[doc = concat!(
            "The ", $name, " level (see [`Encoding::level_range`] and ",
            "[`Encoding::default_level`]); checked by [`build`](Self::build)."
        )]
        pub fn $level(mut self, level: i32) -> Self {
            self.levels[Encoding::$encoding.index()] = level;
            self
        }
    )*};
}

impl CompressionBuilder {
    codec_setters! {
        Br, br, no_br, br_level, "Brotli (`br`)";
        Zstd, zstd, no_zstd, zstd_level, "Zstandard (`zstd`)";
        Gzip, gzip, no_gzip, gzip_level, "gzip";
        Deflate, deflate, no_deflate, deflate_level, "deflate";
    }

    /// The server's preference among codings the client weights equally.
    /// Codings left out follow in the default order (br, zstd, gzip,
    /// deflate). A coding listed twice fails [`build`](Self::build).
    pub fn prefer(mut self, order: impl IntoIterator<Item = Encoding>) -> Self {
        let mut preference: Vec<Encoding> = order.into_iter().collect();
        for encoding in Encoding::ALL {
            if !preference.contains(&encoding) {
                preference.push(encoding);
            }
        }
        self.preference = preference;
        self
    }

    /// The media types worth compressing (default [`ContentTypes::default`]).
    pub fn content_types(mut self, types: ContentTypes) -> Self {
        self.types = types;
        self
    }

    /// Bodies smaller than this are sent as they are (default 1 KiB). A body
    /// of unknown length is buffered up to this size before deciding.
    pub fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }

    /// The most body the layer holds in memory per response to compress in
    /// one piece, set `Content-Length` and check only-if-smaller (default
    /// 64 KiB). Larger or slower bodies are compressed as they stream. Must
    /// be at least [`min_size`](Self::min_size).
    pub fn buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes;
        self
    }

    /// For bodies compressed in one piece, send the compressed form only when
    /// it is smaller (default on).
    pub fn only_if_smaller(mut self, enable: bool) -> Self {
        self.only_if_smaller = enable;
        self
    }

    /// Compresses `text/event-stream`, flushing after every event frame
    /// (default off: many proxies and clients handle compressed event
    /// streams badly).
    pub fn event_stream(mut self, enable: bool) -> Self {
        self.event_stream = enable;
        self
    }

    /// A further condition, checked after the built-in rules: a response is
    /// compressed only if `predicate` returns `true` for its status and
    /// headers. Others are sent as they are ([`SkipReason::Predicate`]).
    /// The predicate sees only the response, so it adds no `Vary`.
    ///
    /// ```
    /// use strata_compression::CompressionLayer;
    ///
    /// // Leave responses marked by the handler alone.
    /// let layer = CompressionLayer::builder()
    ///     .compress_when(|response| !response.headers.contains_key("x-no-compression"))
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok::<(), strata_core::ConfigError>(())
    /// ```
    ///
    /// [`SkipReason::Predicate`]: crate::SkipReason::Predicate
    pub fn compress_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&http::response::Parts) -> bool + Send + Sync + 'static,
    {
        self.predicate = Some(Predicate(Arc::new(predicate)));
        self
    }

    /// Counts bytes and skips into Prometheus.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::CompressionMetrics) -> Self {
        self.meter.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for a level outside its coding's range, a
    /// coding listed twice in [`prefer`](Self::prefer), a coding enabled
    /// whose feature is off, or a buffer smaller than the minimum size.
    pub fn build(self) -> Result<CompressionLayer, ConfigError> {
        for encoding in Encoding::ALL {
            let (low, high) = encoding.level_range();
            if !(low..=high).contains(&self.levels[encoding.index()]) {
                return Err(ConfigError::OutOfRange {
                    name: match encoding {
                        Encoding::Br => "br_level",
                        Encoding::Zstd => "zstd_level",
                        Encoding::Gzip => "gzip_level",
                        Encoding::Deflate => "deflate_level",
                    },
                    reason: match encoding {
                        Encoding::Br => "brotli levels are 0 to 11",
                        Encoding::Zstd => "zstd levels are 1 to 22",
                        Encoding::Gzip | Encoding::Deflate => "gzip and deflate levels are 1 to 9",
                    },
                });
            }
            if self.enabled[encoding.index()] && !encoding.is_compiled() {
                return Err(ConfigError::OutOfRange {
                    name: "codings",
                    reason: "a coding was enabled whose cargo feature is off",
                });
            }
        }
        for (i, encoding) in self.preference.iter().enumerate() {
            if self.preference[..i].contains(encoding) {
                return Err(ConfigError::OutOfRange {
                    name: "prefer",
                    reason: "each coding may appear once",
                });
            }
        }
        if self.buffer_size < self.min_size {
            return Err(ConfigError::OutOfRange {
                name: "buffer_size",
                reason: "must be at least min_size",
            });
        }
        Ok(CompressionLayer {
            config: Arc::new(self.into_config()),
        })
    }

    fn into_config(self) -> Config {
        let enabled = self.enabled;
        Config {
            offered: self
                .preference
                .into_iter()
                .filter(|encoding| enabled[encoding.index()] && encoding.is_compiled())
                .collect(),
            levels: self.levels,
            types: self.types,
            min_size: self.min_size,
            buffer_size: self.buffer_size,
            only_if_smaller: self.only_if_smaller,
            event_stream: self.event_stream,
            predicate: self.predicate,
            meter: self.meter,
        }
    }
}
