//! Settings of [`ProfilingService`](crate::ProfilingService).

use std::time::Duration;

use strata_core::ConfigError;

use crate::service::ProfilingService;

/// Default for [`ProfilingBuilder::default_seconds`].
pub const DEFAULT_SECONDS: u64 = 10;
/// Default for [`ProfilingBuilder::max_seconds`].
pub const DEFAULT_MAX_SECONDS: u64 = 60;
/// Default for [`ProfilingBuilder::frequency`] (samples per second).
pub const DEFAULT_FREQUENCY: u32 = 99;

/// Builds a [`ProfilingService`]: `ProfilingService::builder()`, setters,
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct ProfilingBuilder {
    default_seconds: Option<u64>,
    max_seconds: u64,
    frequency: u32,
}

impl Default for ProfilingBuilder {
    fn default() -> Self {
        Self {
            default_seconds: None,
            max_seconds: DEFAULT_MAX_SECONDS,
            frequency: DEFAULT_FREQUENCY,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) default_seconds: u64,
    pub(crate) max_seconds: u64,
    #[cfg_attr(not(feature = "cpu"), allow(dead_code))]
    pub(crate) frequency: u32,
}

impl Settings {
    pub(crate) fn duration(&self, seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }
}

impl ProfilingBuilder {
    /// Profile length when the request names none (`?seconds=`). Default
    /// [`DEFAULT_SECONDS`], or `max_seconds` when that is shorter.
    pub fn default_seconds(mut self, seconds: u64) -> Self {
        self.default_seconds = Some(seconds);
        self
    }

    /// The longest profile a request may ask for; longer is a `400`
    /// problem. Default [`DEFAULT_MAX_SECONDS`], at most 600.
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.max_seconds = seconds;
        self
    }

    /// CPU samples per second. Default [`DEFAULT_FREQUENCY`] (not 100, so
    /// sampling does not run in lockstep with 100 Hz timers); 1 to 1000.
    pub fn frequency(mut self, hertz: u32) -> Self {
        self.frequency = hertz;
        self
    }

    /// Checks the settings and builds the service.
    pub fn build(self) -> Result<ProfilingService, ConfigError> {
        if !(1..=600).contains(&self.max_seconds) {
            return Err(ConfigError::invalid("max_seconds", "1 to 600 seconds"));
        }
        let default_seconds = self
            .default_seconds
            .unwrap_or(DEFAULT_SECONDS.min(self.max_seconds));
        if !(1..=self.max_seconds).contains(&default_seconds) {
            return Err(ConfigError::invalid(
                "default_seconds",
                "1 second to `max_seconds`",
            ));
        }
        if !(1..=1000).contains(&self.frequency) {
            return Err(ConfigError::invalid(
                "frequency",
                "1 to 1000 samples per second",
            ));
        }
        Ok(ProfilingService::from_settings(Settings {
            default_seconds,
            max_seconds: self.max_seconds,
            frequency: self.frequency,
        }))
    }
}
