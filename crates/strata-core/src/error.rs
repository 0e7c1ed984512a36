//! The configuration error of the whole family.

use std::borrow::Cow;

/// Invalid configuration, reported when a layer is built (`build()` or
/// `pair()`), never on a request.
///
/// Every strata crate reports its configuration problems with this one
/// type, naming the setting (the builder method) that holds the problem.
///
/// ```
/// use strata_core::ConfigError;
///
/// let error = ConfigError::invalid("max_hops", "must be at least 1");
/// assert_eq!(error.to_string(), "invalid `max_hops`: must be at least 1");
/// assert!(matches!(error, ConfigError::Invalid { setting: "max_hops", .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting has a value it does not accept.
    #[error("invalid `{setting}`: {reason}")]
    Invalid {
        /// The setting: the builder method that was given the value.
        setting: &'static str,
        /// What the setting accepts.
        reason: Cow<'static, str>,
    },
    /// Two entries that must differ have the same name.
    #[error("duplicate {what} `{name}`")]
    Duplicate {
        /// What kind of entry (`"policy"`, `"check"`, `"route"`...).
        what: &'static str,
        /// The name given twice.
        name: String,
    },
    /// A setting needs a cargo feature that is not enabled.
    #[error("`{setting}` needs the `{feature}` feature, which is not enabled")]
    FeatureDisabled {
        /// The setting.
        setting: &'static str,
        /// The feature that would make it work.
        feature: &'static str,
    },
    /// A collector could not be registered into the Prometheus registry (a
    /// name already registered, usually). Nothing of the failed
    /// registration stays registered.
    #[cfg(feature = "prometheus")]
    #[error("cannot register the metrics: {0}")]
    Registry(#[source] prometheus::Error),
    /// An entry of a trusted-proxy list is neither an IP address nor a CIDR block.
    #[error(
        "invalid trusted proxy `{value}`: expected an IP address or a CIDR block such as 10.0.0.0/8"
    )]
    InvalidProxy {
        /// The entry as given.
        value: String,
        /// Why it did not parse.
        #[source]
        source: ipnet::AddrParseError,
    },
    /// The Redis URL could not be used.
    #[cfg(feature = "redis")]
    #[error("invalid Redis URL: {source}")]
    RedisUrl {
        /// The error `fred` reported.
        #[source]
        source: fred::error::Error,
    },
    /// `fred` refused the assembled configuration.
    #[cfg(feature = "redis")]
    #[error("invalid Redis configuration: {source}")]
    Redis {
        /// The error `fred` reported.
        #[source]
        source: fred::error::Error,
    },
}

impl ConfigError {
    /// [`ConfigError::Invalid`] for `setting`.
    pub fn invalid(setting: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Invalid {
            setting,
            reason: reason.into(),
        }
    }

    /// [`ConfigError::Duplicate`]: `name` was given twice as a `what`.
    pub fn duplicate(what: &'static str, name: impl Into<String>) -> Self {
        Self::Duplicate {
            what,
            name: name.into(),
        }
    }

    /// [`ConfigError::FeatureDisabled`]: `setting` needs `feature`.
    pub fn feature_disabled(setting: &'static str, feature: &'static str) -> Self {
        Self::FeatureDisabled { setting, feature }
    }

    /// The setting the error is about, when it names one.
    pub fn setting(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { setting, .. } | Self::FeatureDisabled { setting, .. } => Some(setting),
            _ => None,
        }
    }
}
