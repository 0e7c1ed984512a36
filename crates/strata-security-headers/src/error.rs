/// Invalid configuration, reported when a policy or layer is built, never on
/// a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A CSP directive name is unknown, deprecated or repeated.
    #[error("invalid CSP directive `{name}`: {reason}")]
    InvalidDirective {
        /// The directive as given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A CSP source expression is malformed or could inject policy syntax.
    #[error("invalid source `{value}` in CSP directive `{directive}`: {reason}")]
    InvalidSource {
        /// The directive the source was given to.
        directive: String,
        /// The source as given.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The policy has no `default-src` and the requirement was not waived.
    #[error(
        "the CSP has no `default-src`: add one, or call `waive_default_src()` if every fetch directive is set on purpose"
    )]
    MissingDefaultSrc,
    /// A value cannot be used in the header it is meant for.
    #[error("invalid value `{value}` for `{name}`: {reason}")]
    InvalidValue {
        /// The setting or header.
        name: &'static str,
        /// The value as given.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A shared strata setting (trusted proxies, ranges) is invalid.
    #[error(transparent)]
    Core(#[from] strata_core::ConfigError),
    /// The Prometheus registry refused a collector (for example a duplicate).
    #[cfg(feature = "prometheus")]
    #[error("could not register the metrics: {source}")]
    Metrics {
        /// The error the registry reported.
        #[source]
        source: prometheus::Error,
    },
}

impl ConfigError {
    pub(crate) fn value(
        name: &'static str,
        value: impl Into<String>,
        reason: &'static str,
    ) -> Self {
        Self::InvalidValue {
            name,
            value: value.into(),
            reason,
        }
    }
}
