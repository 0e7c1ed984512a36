//! Registering a crate's collectors all at once (feature `prometheus`).

use prometheus::Registry;
use prometheus::core::Collector;

use crate::ConfigError;

/// Registers collectors into one registry on behalf of [`register_all`],
/// remembering them so a failure can take them out again.
pub struct Registrar<'r> {
    registry: &'r Registry,
    registered: Vec<Box<dyn Collector>>,
}

impl std::fmt::Debug for Registrar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("registered", &self.registered.len())
            .finish_non_exhaustive()
    }
}

impl Registrar<'_> {
    /// Registers `collector` and returns it (collectors are cheap handles
    /// to shared state).
    pub fn register<C: Collector + Clone + 'static>(
        &mut self,
        collector: C,
    ) -> Result<C, prometheus::Error> {
        self.registry.register(Box::new(collector.clone()))?;
        self.registered.push(Box::new(collector.clone()));
        Ok(collector)
    }
}

/// Runs `register`, which creates and registers a set of collectors through
/// the [`Registrar`]: either every collector ends up in `registry`, or none
/// does (those registered before the failure are unregistered) and the
/// error is [`ConfigError::Registry`].
///
/// Every strata `XMetrics::register(&Registry)` is built on it, so a name
/// clash never leaves half a crate's metrics behind.
///
/// ```
/// use prometheus::{IntCounter, Registry};
/// use strata_core::ConfigError;
/// use strata_core::metrics::register_all;
///
/// let registry = Registry::new();
/// let first = register_all(&registry, |r| {
///     r.register(IntCounter::new("example_total", "Examples.")?)
/// })?;
/// first.inc();
///
/// // A second set clashing on its second collector leaves nothing behind.
/// let clash = register_all(&registry, |r| {
///     r.register(IntCounter::new("other_total", "Other.")?)?;
///     r.register(IntCounter::new("example_total", "Examples.")?)
/// });
/// assert!(matches!(clash, Err(ConfigError::Registry(_))));
/// assert_eq!(registry.gather().len(), 1);
/// # Ok::<(), ConfigError>(())
/// ```
pub fn register_all<T>(
    registry: &Registry,
    register: impl FnOnce(&mut Registrar<'_>) -> Result<T, prometheus::Error>,
) -> Result<T, ConfigError> {
    let mut registrar = Registrar {
        registry,
        registered: Vec::new(),
    };
    match register(&mut registrar) {
        Ok(value) => Ok(value),
        Err(error) => {
            for collector in registrar.registered {
                // It was registered a moment ago: unregistering cannot miss.
                let _ = registry.unregister(collector);
            }
            Err(ConfigError::Registry(error))
        }
    }
}
