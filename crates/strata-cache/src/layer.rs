//! [`CacheLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::{CacheBuilder, Shared};
use crate::{Cache, MemoryStore, Store};

/// A shared HTTP response cache (RFC 9111) in front of a service.
///
/// [`new`](Self::new) caches in memory ([`MemoryStore`], 64 MiB) with the
/// defaults of [`CacheBuilder`]; [`builder`](Self::builder) takes any
/// [`Store`] and every setting.
#[derive(Debug, Clone)]
pub struct CacheLayer {
    pub(crate) shared: Arc<Shared>,
}

impl CacheLayer {
    /// A cache in memory with every default.
    pub fn new() -> Self {
        match Self::builder(MemoryStore::new()).build() {
            Ok(layer) => layer,
            // The defaults are valid (tested).
            Err(error) => unreachable!("default cache settings are valid: {error}"),
        }
    }

    /// A builder for a cache in `store`.
    pub fn builder<S: Store>(store: S) -> CacheBuilder {
        CacheBuilder::new(store)
    }
}

impl Default for CacheLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = Cache<S>;

    fn layer(&self, inner: S) -> Cache<S> {
        Cache {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}
