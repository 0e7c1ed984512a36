//! The settings of [`RequestDecompressionLayer`] and their builder.

use strata_core::ConfigError;

use super::RequestDecompressionLayer;
use crate::codec::Encoding;
use crate::config::setting;

/// Default [`RequestDecompressionBuilder::max_size`]: 8 MiB of decoded body.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: u64 = 8 * 1024 * 1024;

/// The checked settings, shared by a layer's services.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The codings decoded (compiled and not turned off).
    pub(crate) enabled: [bool; 4],
    pub(crate) max_size: u64,
}

/// Settings for a [`RequestDecompressionLayer`], checked by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct RequestDecompressionBuilder {
    /// `Some` when a setter chose; `None` keeps the default (on when compiled).
    enabled: [Option<bool>; 4],
    max_size: u64,
}

impl Default for RequestDecompressionBuilder {
    fn default() -> Self {
        Self {
            enabled: [None; 4],
            max_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
        }
    }
}

macro_rules! decode_setters {
    ($($encoding:ident, $on:ident, $off:ident, $name:literal;)*) => {$(
        #[doc = concat!(
            "Decodes ", $name, " bodies (default: on when its feature is). Turning it ",
            "on without its cargo feature fails [`build`](Self::build) with ",
            "[`ConfigError::FeatureDisabled`]."
        )]
        pub fn $on(mut self, enable: bool) -> Self {
            self.enabled[Encoding::$encoding.index()] = Some(enable);
            self
        }

        #[doc = concat!("Refuses ", $name, " bodies with 415.")]
        pub fn $off(self) -> Self {
            self.$on(false)
        }
    )*};
}

impl RequestDecompressionBuilder {
    /// The most decoded bytes a request body may have (default 8 MiB). Set
    /// it to the application's body limit: a limit outside this layer only
    /// sees encoded bytes. Must be at least 1, checked by
    /// [`build`](Self::build).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    decode_setters! {
        Br, br, no_br, "Brotli (`br`)";
        Zstd, zstd, no_zstd, "Zstandard (`zstd`)";
        Gzip, gzip, no_gzip, "gzip";
        Deflate, deflate, no_deflate, "deflate";
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// The first problem found: [`ConfigError::FeatureDisabled`] for a
    /// coding turned on (`br`, `zstd`, `gzip`, `deflate`) whose cargo feature
    /// is off; [`ConfigError::Invalid`] for a `max_size` of 0, which would
    /// refuse every encoded body.
    pub fn build(self) -> Result<RequestDecompressionLayer, ConfigError> {
        self.into_settings()
            .map(RequestDecompressionLayer::from_settings)
    }

    pub(super) fn into_settings(self) -> Result<Settings, ConfigError> {
        for encoding in Encoding::ALL {
            if self.enabled[encoding.index()] == Some(true) && !encoding.is_compiled() {
                return Err(ConfigError::feature_disabled(
                    setting(encoding),
                    encoding.as_str(),
                ));
            }
        }
        if self.max_size == 0 {
            return Err(ConfigError::invalid(
                "max_size",
                "the decoded body cap must be at least 1 byte",
            ));
        }
        Ok(Settings {
            enabled: Encoding::ALL
                .map(|e| self.enabled[e.index()].unwrap_or(true) && e.is_compiled()),
            max_size: self.max_size,
        })
    }
}
