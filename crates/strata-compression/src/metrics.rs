//! Prometheus counters (feature `prometheus`).

use crate::codec::Encoding;
use crate::skip::SkipReason;

#[cfg(feature = "prometheus")]
pub use self::prom::CompressionMetrics;

#[cfg(feature = "prometheus")]
mod prom {
    use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
    use strata_core::ConfigError;
    use strata_core::metrics::register_all;

    use crate::codec::Encoding;
    use crate::skip::SkipReason;

    /// Compression counters, registered into a registry you own and shared
    /// by every clone of the layer.
    ///
    /// | metric | labels | meaning |
    /// |---|---|---|
    /// | `strata_compression_bytes_in_total` | `encoding` | bytes given to the encoder |
    /// | `strata_compression_bytes_out_total` | `encoding` | compressed bytes sent |
    /// | `strata_compression_skipped_total` | `reason` | responses sent uncompressed, by [`SkipReason`] |
    ///
    /// Labels come from closed sets (four codings, the [`SkipReason`]s), so
    /// cardinality is fixed.
    ///
    /// ```
    /// use strata_compression::{CompressionLayer, CompressionMetrics};
    ///
    /// let registry = prometheus::Registry::new();
    /// let metrics = CompressionMetrics::register(&registry)?;
    /// let layer = CompressionLayer::builder().metrics(metrics).build()?;
    /// # let _ = layer;
    /// # Ok::<(), strata_core::ConfigError>(())
    /// ```
    #[derive(Debug, Clone)]
    pub struct CompressionMetrics {
        bytes_in: [IntCounter; 4],
        bytes_out: [IntCounter; 4],
        skipped: IntCounterVec,
    }

    impl CompressionMetrics {
        /// Creates the counters and registers them into `registry`: all of
        /// them, or none.
        ///
        /// # Errors
        ///
        /// [`ConfigError::Registry`] when a collector of the same name is
        /// already registered; then nothing of this call stays registered.
        pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
            let (bytes_in, bytes_out, skipped) = register_all(registry, |r| {
                let bytes_in = r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_compression_bytes_in_total",
                        "Bytes of response content given to the encoder.",
                    ),
                    &["encoding"],
                )?)?;
                let bytes_out = r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_compression_bytes_out_total",
                        "Compressed response bytes sent.",
                    ),
                    &["encoding"],
                )?)?;
                let skipped = r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_compression_skipped_total",
                        "Responses sent without compression, by reason.",
                    ),
                    &["reason"],
                )?)?;
                Ok((bytes_in, bytes_out, skipped))
            })?;
            for reason in SkipReason::ALL {
                skipped.with_label_values(&[reason.as_str()]);
            }
            let per =
                |vec: &IntCounterVec| Encoding::ALL.map(|e| vec.with_label_values(&[e.as_str()]));
            Ok(Self {
                bytes_in: per(&bytes_in),
                bytes_out: per(&bytes_out),
                skipped,
            })
        }

        pub(crate) fn bytes(&self, encoding: Encoding, input: u64, output: u64) {
            self.bytes_in[encoding.index()].inc_by(input);
            self.bytes_out[encoding.index()].inc_by(output);
        }

        pub(crate) fn skipped(&self, reason: SkipReason) {
            self.skipped.with_label_values(&[reason.as_str()]).inc();
        }
    }
}

/// The counters when configured; a no-op otherwise.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meter {
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<CompressionMetrics>,
}

impl Meter {
    #[allow(unused_variables)]
    pub(crate) fn bytes(&self, encoding: Encoding, input: u64, output: u64) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.bytes(encoding, input, output);
        }
    }

    #[allow(unused_variables)]
    pub(crate) fn skipped(&self, reason: SkipReason) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.skipped(reason);
        }
    }
}
