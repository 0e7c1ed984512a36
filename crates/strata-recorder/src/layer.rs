//! [`RecorderLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::RecorderBuilder;
use crate::service::Recorder;
use crate::shared::Shared;

/// Records every exchange through the wrapped service and keeps those its
/// [`Retain`](crate::Retain) policy selects, redacted, in its store.
///
/// [`RecorderLayer::new`] keeps 5xx and exchanges slower than 1 s in a
/// [`MemoryStore`](crate::MemoryStore) with the default bounds;
/// [`RecorderLayer::builder`] sets everything and
/// [`pair`](RecorderBuilder::pair) hands back the [`RecorderHandle`](crate::RecorderHandle)
/// that queries, exports and serves the viewer.
#[derive(Debug, Clone)]
pub struct RecorderLayer {
    shared: Arc<Shared>,
}

impl RecorderLayer {
    /// The defaults of [`RecorderBuilder`].
    pub fn new() -> Self {
        Self::builder()
            .build()
            .unwrap_or_else(|error| unreachable!("the default settings are valid: {error}"))
    }

    /// A builder with every default.
    pub fn builder() -> RecorderBuilder {
        RecorderBuilder::new()
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl Default for RecorderLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for RecorderLayer {
    type Service = Recorder<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recorder::new(inner, self.shared.clone())
    }
}
