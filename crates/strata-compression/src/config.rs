//! The settings of [`CompressionLayer`](crate::CompressionLayer) and their
//! builder, [`CompressionBuilder`].

use std::sync::Arc;

use strata_core::ConfigError;

use crate::codec::Encoding;
use crate::metrics::Meter;
use crate::predicate::ContentTypes;

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

/// The name of a coding's on/off setting, which is also its cargo feature.
pub(crate) const fn setting(encoding: Encoding) -> &'static str {
    encoding.as_str()
}

const fn level_setting(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Br => "br_level",
        Encoding::Zstd => "zstd_level",
        Encoding::Gzip => "gzip_level",
        Encoding::Deflate => "deflate_level",
    }
}

/// Settings for a [`CompressionLayer`](crate::CompressionLayer), checked by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct CompressionBuilder {
    /// `Some` when a setter chose; `None` keeps the default (on when compiled).
    enabled: [Option<bool>; 4],
    preference: Vec<Encoding>,
    /// `Some` when a setter chose a level.
    levels: [Option<i32>; 4],
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
            enabled: [None; 4],
            preference: Encoding::ALL.to_vec(),
            levels: [None; 4],
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
        #[doc = concat!(
            "Offers ", $name, " (default: on when its feature is). Turning it on ",
            "without its cargo feature fails [`build`](Self::build) with ",
            "[`ConfigError::FeatureDisabled`]."
        )]
        pub fn $on(mut self, enable: bool) -> Self {
            self.enabled[Encoding::$encoding.index()] = Some(enable);
            self
        }

        #[doc = concat!("Never offers ", $name, ".")]
        pub fn $off(self) -> Self {
            self.$on(false)
        }

        #[doc = concat!(
            "The ", $name, " level (see [`Encoding::level_range`] and ",
            "[`Encoding::default_level`]); checked by [`build`](Self::build), which ",
            "also refuses a level for a coding whose feature is off."
        )]
        pub fn $level(mut self, level: i32) -> Self {
            self.levels[Encoding::$encoding.index()] = Some(level);
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
    /// An entry that does not parse fails [`build`](Self::build).
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

    /// Counts bytes and skips into Prometheus (feature `prometheus`). One
    /// [`CompressionMetrics`](crate::CompressionMetrics) may serve several
    /// layers.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::CompressionMetrics) -> Self {
        self.meter.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// The first problem found, by setting:
    ///
    /// - [`ConfigError::FeatureDisabled`] for a coding turned on (`br`,
    ///   `zstd`, `gzip`, `deflate`) or given a level (`br_level`, ...) whose
    ///   cargo feature is off;
    /// - [`ConfigError::Invalid`] for a level outside its coding's range
    ///   (`br_level`, ...), a coding listed twice in `prefer`, an entry of
    ///   `content_types` that does not parse, or a `buffer_size` smaller
    ///   than `min_size`.
    pub fn build(self) -> Result<crate::CompressionLayer, ConfigError> {
        self.into_config().map(crate::CompressionLayer::from_config)
    }

    pub(crate) fn into_config(self) -> Result<Config, ConfigError> {
        let mut levels = Encoding::ALL.map(Encoding::default_level);
        for encoding in Encoding::ALL {
            let i = encoding.index();
            if self.enabled[i] == Some(true) && !encoding.is_compiled() {
                return Err(ConfigError::feature_disabled(
                    setting(encoding),
                    encoding.as_str(),
                ));
            }
            let Some(level) = self.levels[i] else {
                continue;
            };
            if !encoding.is_compiled() {
                return Err(ConfigError::feature_disabled(
                    level_setting(encoding),
                    encoding.as_str(),
                ));
            }
            let (low, high) = encoding.level_range();
            if !(low..=high).contains(&level) {
                return Err(ConfigError::invalid(
                    level_setting(encoding),
                    format!("{level} is outside {encoding}'s levels, {low} to {high}"),
                ));
            }
            levels[i] = level;
        }
        for (i, encoding) in self.preference.iter().enumerate() {
            if self.preference[..i].contains(encoding) {
                return Err(ConfigError::invalid(
                    "prefer",
                    format!("{encoding} is listed twice"),
                ));
            }
        }
        self.types.check()?;
        if self.buffer_size < self.min_size {
            return Err(ConfigError::invalid(
                "buffer_size",
                "must be at least min_size",
            ));
        }
        let enabled = self.enabled;
        Ok(Config {
            offered: self
                .preference
                .into_iter()
                .filter(|e| enabled[e.index()].unwrap_or(true) && e.is_compiled())
                .collect(),
            levels,
            types: self.types,
            min_size: self.min_size,
            buffer_size: self.buffer_size,
            only_if_smaller: self.only_if_smaller,
            event_stream: self.event_stream,
            predicate: self.predicate,
            meter: self.meter,
        })
    }
}
