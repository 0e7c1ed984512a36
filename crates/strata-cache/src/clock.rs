//! The cache's wall clock, driven by tokio's clock so tests can pause and
//! advance it: the system time when first read, plus tokio time elapsed
//! since.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The system time since the epoch when first read, and tokio's instant
/// then.
static ANCHOR: OnceLock<(Duration, tokio::time::Instant)> = OnceLock::new();

/// Now, as milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    ms_at(tokio::time::Instant::now())
}

/// The tokio instant `at`, as milliseconds since the Unix epoch: a time
/// already read for a duration serves as the wall clock too.
pub(crate) fn ms_at(at: tokio::time::Instant) -> u64 {
    let (since_epoch, instant) = ANCHOR.get_or_init(|| {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (since_epoch, at)
    });
    let now = *since_epoch + at.saturating_duration_since(*instant);
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

/// `time` as milliseconds since the Unix epoch (0 before it).
pub(crate) fn to_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
