//! The Redis connection, and the audit stream (with the report of what a
//! destructive command did).

use std::ffi::OsString;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::StreamsInterface as _;

use crate::args::Global;
use crate::fail::{Fail, redact};
use crate::term::output;

/// Most entries the audit stream keeps (`MAXLEN ~`).
pub(crate) const AUDIT_MAX: i64 = 10_000;

/// A pool on `REDIS_URL`, connected within the timeout.
pub(crate) async fn connect(global: &Global) -> Result<Pool, Fail> {
    let url = &global.redis_url;
    let timeout = global.connect_timeout;
    let pool = RedisPoolBuilder::from_url(url)
        .map_err(|e| Fail::usage(format!("bad Redis URL {}: {e}", redact(url))))?
        .command_timeout(timeout)
        .connection_timeout(timeout.min(Duration::from_secs(2)))
        .pool_size(2)
        .connect()
        .await
        .map_err(|e| Fail::failure(format!("Redis at {}: {e}", redact(url))))?;
    let unreachable = || {
        Fail::failure(format!(
            "Redis unreachable at {} (no connection within {})",
            redact(url),
            humantime::format_duration(timeout)
        ))
    };
    if strata_core::redis::wait_connected(&pool, timeout).await {
        Ok(pool)
    } else {
        Err(unreachable())
    }
}

/// What a destructive command did, for the audit stream.
pub(crate) struct Audit<'a> {
    action: &'a str,
    target: String,
    count: u64,
    dry_run: bool,
}

impl<'a> Audit<'a> {
    /// `action` on `target` affected `count` things (or would have, in a
    /// dry run).
    pub(crate) fn new(action: &'a str, target: String, count: u64, dry_run: bool) -> Self {
        Self {
            action,
            target,
            count,
            dry_run,
        }
    }
}

/// Appends `entry` to the capped audit stream: time, host, user, command
/// line, action, target, count, dry run.
async fn audit(pool: &Pool, global: &Global, entry: Audit<'_>) -> Result<(), Fail> {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let fields = vec![
        ("time", crate::term::time(ms)),
        ("host", host()),
        (
            "user",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        ),
        ("command", global.command_line.clone()),
        ("action", entry.action.to_owned()),
        ("target", entry.target),
        ("count", entry.count.to_string()),
        ("dry_run", entry.dry_run.to_string()),
    ];
    let stream = global.audit_stream.clone();
    let added: Result<String, _> = pool
        .next_connected()
        .xadd(stream, false, ("MAXLEN", "~", AUDIT_MAX), "*", fields)
        .await;
    added.map(drop).map_err(|e| {
        Fail::failure(format!(
            "done, but the audit entry could not be written to {}: {e}",
            global.audit_stream
        ))
    })
}

/// Writes `entry` to the audit stream, then prints it (`--json`: an object
/// of action, target, count and dry run; else a table whose count column is
/// headed `count_header`).
pub(crate) async fn report(
    pool: &Pool,
    global: &Global,
    entry: Audit<'_>,
    count_header: &str,
    out: &mut dyn Write,
) -> Result<(), Fail> {
    let value = json!({"action": entry.action, "target": entry.target, "count": entry.count,
        "dry_run": entry.dry_run});
    let rows = [
        ["action", "target", count_header, "dry run"]
            .map(String::from)
            .to_vec(),
        vec![
            entry.action.to_owned(),
            entry.target.clone(),
            entry.count.to_string(),
            entry.dry_run.to_string(),
        ],
    ];
    audit(pool, global, entry).await?;
    output(out, global.json, &value, &rows);
    Ok(())
}

fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The command line `args`, with the value of `--token` hidden.
pub(crate) fn command_line(args: &[OsString]) -> String {
    let mut words = Vec::new();
    let mut hide = false;
    for arg in args.iter().map(|a| a.to_string_lossy().into_owned()) {
        if hide {
            words.push("***".to_owned());
            hide = false;
        } else if arg == "--token" {
            words.push(arg);
            hide = true;
        } else if arg.starts_with("--token=") {
            words.push("--token=***".to_owned());
        } else {
            words.push(arg);
        }
    }
    words.join(" ")
}
