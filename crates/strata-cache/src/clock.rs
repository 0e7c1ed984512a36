//! The cache's wall clock, driven by tokio's clock so tests can pause and
//! advance it: the system time when first read, plus tokio time elapsed
//! since.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

static ANCHOR: OnceLock<(SystemTime, tokio::time::Instant)> = OnceLock::new();

/// Now, as milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    ms_at(tokio::time::Instant::now())
}

/// The tokio instant `at`, as milliseconds since the Unix epoch: a time
/// already read for a duration serves as the wall clock too.
pub(crate) fn ms_at(at: tokio::time::Instant) -> u64 {
    let (system, instant) = ANCHOR.get_or_init(|| (SystemTime::now(), at));
    to_ms(*system + at.saturating_duration_since(*instant))
}

/// `time` as milliseconds since the Unix epoch (0 before it).
pub(crate) fn to_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
