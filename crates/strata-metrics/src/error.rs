use strata_core::ConfigError;

/// Why a metrics layer, exporter or helper could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The registry refused a collector: most often a metric of the same
    /// name is already registered (two layers, or a helper registered twice,
    /// on one registry).
    #[error("the Prometheus registry refused a collector: {source}")]
    Registry {
        /// The error the `prometheus` crate reported.
        #[source]
        source: prometheus::Error,
    },
}

impl From<prometheus::Error> for MetricsError {
    fn from(source: prometheus::Error) -> Self {
        Self::Registry { source }
    }
}
