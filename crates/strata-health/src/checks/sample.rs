//! Reading disk, memory and CPU through `sysinfo`, on a blocking thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use sysinfo::{CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

use crate::{Check, Observation};

/// Runs `f` on the blocking pool: `/proc` reads and `statvfs` on a hung
/// mount must not stall the runtime (the check's timeout still applies).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// `used` over `total` in percent, rounded to 0.01.
pub(crate) fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        // Rounded to 0.01 %: u64 to f64 loses nothing that matters here.
        #[allow(clippy::cast_precision_loss)]
        let ratio = used as f64 / total as f64;
        (ratio * 10_000.0).round() / 100.0
    }
}

/// Used and total bytes of the disk holding `path` (the longest mount point
/// that is a prefix of it).
pub(crate) fn disk_usage(path: &Path) -> Option<(u64, u64)> {
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
pub(crate) struct Cpu {
    system: Arc<Mutex<Option<System>>>,
}

impl Cpu {
    pub(crate) fn new() -> Self {
        Self {
            system: Arc::new(Mutex::new(None)),
        }
    }

    /// Global CPU usage in percent and the number of CPUs.
    pub(crate) async fn usage(&self) -> Option<(f64, usize)> {
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

pub(crate) fn memory() -> (u64, u64) {
    let mut system = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    system.refresh_memory();
    (system.used_memory(), system.total_memory())
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
