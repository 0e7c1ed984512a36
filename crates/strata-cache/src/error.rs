//! Runtime errors of the stores.

/// A store call failed; the layer then goes to the origin (bypass) and
/// counts it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Redis returned an error, or the command failed in the client.
    #[cfg(feature = "redis")]
    #[error("redis: {source}")]
    Redis {
        /// The client's error.
        #[source]
        source: strata_core::redis::fred::error::Error,
    },
    /// The store did not answer within its timeout.
    #[error("the cache store did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// No connection to Redis is up (the pool is reconnecting): the store
    /// did not try, so the request did not wait.
    #[error("no connection to the store is up (reconnecting)")]
    Disconnected,
    /// Stored bytes are not an entry this crate wrote.
    #[error("a stored entry could not be read")]
    Corrupt,
    /// The store does not implement this (admin) operation.
    #[error("the cache store does not support `{0}`")]
    Unsupported(&'static str),
}

#[cfg(feature = "redis")]
impl From<strata_core::redis::fred::error::Error> for StoreError {
    fn from(source: strata_core::redis::fred::error::Error) -> Self {
        Self::Redis { source }
    }
}
