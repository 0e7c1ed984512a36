use prometheus::Registry;

use crate::exporter::{MetricsExporter, render};

/// The other half of [`MetricsBuilder::pair`](crate::MetricsBuilder::pair): the
/// registry the layer records into, and the `/metrics` endpoint.
///
/// Register your own collectors, the other strata crates' collectors and the
/// helpers of this crate ([`DbMetrics`](crate::DbMetrics),
/// [`CacheMetrics`](crate::CacheMetrics), [`CounterFamily`](crate::CounterFamily))
/// into [`registry`](Self::registry) and the endpoint serves them all.
#[derive(Debug, Clone)]
pub struct MetricsHandle {
    registry: Registry,
}

impl MetricsHandle {
    pub(crate) fn new(registry: Registry) -> Self {
        Self { registry }
    }

    /// The registry the layer records into. `Registry` is a cheap handle:
    /// clone it to hand it to other crates.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition of everything in the registry.
    pub fn render(&self) -> String {
        render(&self.registry)
    }

    /// A `/metrics` service for this registry, open until
    /// [guarded](MetricsExporter::guard).
    pub fn exporter(&self) -> MetricsExporter {
        MetricsExporter::new(&self.registry)
    }
}
