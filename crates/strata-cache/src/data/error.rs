//! Runtime errors of the data cache.

use std::sync::Arc;
use std::time::Duration;

use crate::StoreError;

/// A [`DataCache`](crate::DataCache) call on the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The store failed or did not answer within the store timeout.
    #[error("data cache store: {0}")]
    Store(#[source] StoreError),
    /// The value could not be encoded (a `Serialize` implementation
    /// failed).
    #[error("the value could not be encoded")]
    Encode(#[source] rmp_serde::encode::Error),
}

impl From<StoreError> for DataError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// [`get_or_insert_with`](crate::DataCache::get_or_insert_with) got no
/// value. Store failures are not among them: the loader then serves.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError<E> {
    /// The loader failed; every caller waiting on the same load gets this
    /// same error (and so do calls within a [`Ttl::negative`](crate::Ttl::negative)
    /// window).
    #[error("the loader failed")]
    Loader(#[source] Arc<E>),
    /// The loader did not finish within the load timeout.
    #[error("the loader did not finish within {0:?}")]
    Timeout(Duration),
}
