//! Disk, memory and CPU checks.

use std::path::PathBuf;

use super::sample::{Cpu, blocking, disk_usage, memory, percent};
use crate::{Check, Observation, Status};

/// `fail` above `fail`, else `warn` above `warn`, else `pass`.
fn grade(value: f64, warn: u8, fail: u8, what: &str) -> Observation {
    let observation = if value > f64::from(fail) {
        Observation::fail(format!("{what} at {value:.1} %, above {fail} %"))
    } else if value > f64::from(warn) {
        Observation::warn(format!("{what} at {value:.1} %, above {warn} %"))
    } else {
        Observation::new(Status::Pass)
    };
    observation.observed(value, "percent")
}

/// Disk usage of the disk holding a path.
///
/// `warn` above 90 % used and `fail` above 98 % by default; key
/// `{name}:utilization`, `componentType` `system`.
///
/// ```
/// use strata_health::checks::DiskSpaceCheck;
///
/// let check = DiskSpaceCheck::new("/var/lib/app").warn_above(80).fail_above(95);
/// # drop(check);
/// ```
#[derive(Debug, Clone)]
pub struct DiskSpaceCheck {
    path: PathBuf,
    warn: u8,
    fail: u8,
}

impl DiskSpaceCheck {
    /// Watches the disk holding `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            warn: 90,
            fail: 98,
        }
    }

    /// `warn` above this percentage used. Default 90; 100 never warns.
    #[must_use]
    pub fn warn_above(mut self, percent: u8) -> Self {
        self.warn = percent;
        self
    }

    /// `fail` above this percentage used. Default 98; 100 never fails.
    #[must_use]
    pub fn fail_above(mut self, percent: u8) -> Self {
        self.fail = percent;
        self
    }
}

impl Check for DiskSpaceCheck {
    async fn check(&self) -> Observation {
        let path = self.path.clone();
        match blocking(move || disk_usage(&path)).await.flatten() {
            Some((used, total)) => grade(percent(used, total), self.warn, self.fail, "disk usage"),
            None => Observation::fail(format!("no disk holds {}", self.path.display())),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("utilization")
    }

    fn component_type(&self) -> Option<&str> {
        Some("system")
    }
}

/// Memory usage of the host.
///
/// `warn` above 90 % used and `fail` above 98 % by default; key
/// `{name}:utilization`, `componentType` `system`.
#[derive(Debug, Clone)]
pub struct MemoryCheck {
    warn: u8,
    fail: u8,
}

impl Default for MemoryCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCheck {
    /// The default thresholds.
    pub fn new() -> Self {
        Self { warn: 90, fail: 98 }
    }

    /// `warn` above this percentage used. Default 90; 100 never warns.
    #[must_use]
    pub fn warn_above(mut self, percent: u8) -> Self {
        self.warn = percent;
        self
    }

    /// `fail` above this percentage used. Default 98; 100 never fails.
    #[must_use]
    pub fn fail_above(mut self, percent: u8) -> Self {
        self.fail = percent;
        self
    }
}

impl Check for MemoryCheck {
    async fn check(&self) -> Observation {
        match blocking(memory).await {
            Some((used, total)) => {
                grade(percent(used, total), self.warn, self.fail, "memory usage")
            }
            None => Observation::fail("cannot read memory usage"),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("utilization")
    }

    fn component_type(&self) -> Option<&str> {
        Some("system")
    }
}

/// CPU usage of the host, averaged since the previous run (the first run
/// samples for 200 ms).
///
/// `warn` above 90 % and never `fail` by default (a busy service is still a
/// healthy one); key `{name}:utilization`, `componentType` `system`.
#[derive(Debug, Clone)]
pub struct CpuCheck {
    cpu: Cpu,
    warn: u8,
    fail: u8,
}

impl Default for CpuCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuCheck {
    /// The default thresholds.
    pub fn new() -> Self {
        Self {
            cpu: Cpu::new(),
            warn: 90,
            fail: 100,
        }
    }

    /// `warn` above this percentage. Default 90; 100 never warns.
    #[must_use]
    pub fn warn_above(mut self, percent: u8) -> Self {
        self.warn = percent;
        self
    }

    /// `fail` above this percentage. Default 100: never.
    #[must_use]
    pub fn fail_above(mut self, percent: u8) -> Self {
        self.fail = percent;
        self
    }
}

impl Check for CpuCheck {
    async fn check(&self) -> Observation {
        match self.cpu.usage().await {
            Some((usage, _)) => grade(usage, self.warn, self.fail, "CPU usage"),
            None => Observation::fail("cannot read CPU usage"),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("utilization")
    }

    fn component_type(&self) -> Option<&str> {
        Some("system")
    }
}
