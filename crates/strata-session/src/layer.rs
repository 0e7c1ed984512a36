//! [`SessionLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::{SessionBuilder, Settings};
use crate::service::SessionManager;
use crate::store::{MemoryStore, Store};

/// Puts a [`Session`](crate::Session) in every request's extensions and
/// writes back what changed.
///
/// [`SessionLayer::new`] keeps sessions in a [`MemoryStore`] with the
/// defaults; [`SessionLayer::builder`] takes any [`Store`] and every
/// setting.
#[derive(Debug, Clone)]
pub struct SessionLayer {
    settings: Arc<Settings>,
}

impl SessionLayer {
    /// Sessions in a new [`MemoryStore`], `Secure` `__Host-sid` cookies,
    /// every default of [`SessionBuilder`].
    pub fn new() -> Self {
        Self::builder(MemoryStore::new())
            .build()
            .unwrap_or_else(|error| unreachable!("the default settings are valid: {error}"))
    }

    /// A builder for sessions kept in `store`.
    pub fn builder(store: impl Store) -> SessionBuilder {
        SessionBuilder::new(store)
    }

    pub(crate) fn from_settings(settings: Arc<Settings>) -> Self {
        Self { settings }
    }
}

impl Default for SessionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionManager<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionManager::new(inner, self.settings.clone())
    }
}
