/// Invalid configuration, reported when a value is built, never on a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
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
    /// A setting is outside the range it accepts.
    #[error("invalid `{name}`: {reason}")]
    OutOfRange {
        /// The setting's name.
        name: &'static str,
        /// The accepted range.
        reason: &'static str,
    },
    /// The Redis URL could not be used.
    #[cfg(feature = "redis")]
    #[error("invalid Redis URL: {source}")]
    RedisUrl {
        /// The error `fred` reported.
        #[source]
        source: fred::error::Error,
    },
    /// A `rediss://` URL was given but TLS support is not compiled in.
    #[cfg(feature = "redis")]
    #[error("the Redis URL asks for TLS but strata-core was built without the `redis-tls` feature")]
    RedisTlsDisabled,
    /// `fred` refused the assembled configuration.
    #[cfg(feature = "redis")]
    #[error("invalid Redis configuration: {source}")]
    Redis {
        /// The error `fred` reported.
        #[source]
        source: fred::error::Error,
    },
}
