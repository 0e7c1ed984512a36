//! Disk, memory and CPU, read through `sysinfo` on a blocking thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use sysinfo::{CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

use crate::{Check, Observation, Status};

/// Runs `f` on the blocking pool: `/proc` reads and `statvfs` on a hung
/// mount must not stall the runtime (the check's timeout still applies).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        // Rounded to 0.01 %: u64 to f64 loses nothing that matters here.
        #[allow(clippy::cast_precision_loss)]
        let ratio = used as f64 / total as f64;
        (ratio * 10_000.0).round() / 100.0
    }
}

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

/// Used and total bytes of the disk holding `path` (the longest mount point
/// that is a prefix of it).
fn disk_usage(path: &Path) -> Option<(u64, u64)> {
    let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage());
    let disk = disks
        .list()
        .iter()
        .filter(|disk| path.starts_with(disk.mount_point()))
        .max_by_key(|disk| disk.mount_point().as_os_str().len())?;
    let total = disk.total_space();
    Some((total.saturating_sub(disk.available_space()), total))
}

/// Keeps a `System` between runs: CPU usage is measured between two
/// refreshes, so each run reports the average since the previous one.
#[derive(Debug, Clone)]
struct Cpu {
    system: Arc<Mutex<Option<System>>>,
}

impl Cpu {
    fn new() -> Self {
        Self {
            system: Arc::new(Mutex::new(None)),
        }
    }

    /// Global CPU usage in percent and the number of CPUs.
    async fn usage(&self) -> Option<(f64, usize)> {
        let first = {
            let system = Arc::clone(&self.system);
            blocking(move || {
                let mut guard = system.lock().unwrap_or_else(PoisonError::into_inner);
                let first = guard.is_none();
                let system = guard.get_or_insert_with(|| {
                    System::new_with_specifics(
                        RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing().with_cpu_usage()),
                    )
                });
                system.refresh_cpu_usage();
                first
            })
            .await?
        };
        if first {
            // The first reading needs a second sample to compare with.
            tokio::time::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL).await;
        }
        let system = Arc::clone(&self.system);
        blocking(move || {
            let mut guard = system.lock().unwrap_or_else(PoisonError::into_inner);
            let system = guard.as_mut()?;
            if first {
                system.refresh_cpu_usage();
            }
            let usage = f64::from(system.global_cpu_usage());
            Some(((usage * 100.0).round() / 100.0, system.cpus().len()))
        })
        .await
        .flatten()
    }
}

fn memory() -> (u64, u64) {
    let mut system = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    system.refresh_memory();
    (system.used_memory(), system.total_memory())
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

/// Memory usage of the host (or the container, where cgroups limit it).
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

/// The resources of the `system` section, sampled like a check (cached,
/// under a timeout) and reported as its observed value.
#[derive(Debug)]
pub(crate) struct SystemSampler {
    cpu: Cpu,
    disk_path: PathBuf,
}

impl SystemSampler {
    pub(crate) fn new(disk_path: PathBuf) -> Self {
        Self {
            cpu: Cpu::new(),
            disk_path,
        }
    }
}

impl Check for SystemSampler {
    async fn check(&self) -> Observation {
        let cpu = self.cpu.usage().await;
        let path = self.disk_path.clone();
        let Some(((used_memory, total_memory), disk)) =
            blocking(move || (memory(), disk_usage(&path))).await
        else {
            return Observation::fail("cannot read system usage");
        };
        let mut resources = json!({
            "memory": {
                "usedBytes": used_memory,
                "totalBytes": total_memory,
                "usagePercent": percent(used_memory, total_memory),
            },
        });
        if let Some((usage, cores)) = cpu {
            resources["cpu"] = json!({ "usagePercent": usage, "cores": cores });
        }
        if let Some((used, total)) = disk {
            resources["disk"] = json!({
                "path": self.disk_path,
                "usedBytes": used,
                "totalBytes": total,
                "usagePercent": percent(used, total),
            });
        }
        Observation::pass().observed(resources, "")
    }
}
