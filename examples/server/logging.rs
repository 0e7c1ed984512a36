//! Logs: structured `tracing` events (JSON in production) on stdout, or, with
//! `LOG_DIR` set, in daily files there (`server.log.YYYY-MM-DD`) and nothing
//! on stdout.

use std::path::Path;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::{AppEnv, Config};

/// What keeps the file writer running: dropping it writes out every line
/// still queued, so it lives until the server has stopped. `None` on stdout.
pub(crate) type LogGuard = Option<WorkerGuard>;

/// Installs the process's logger. A `LOG_DIR` that cannot be created or
/// written fails here, naming the variable and the path.
pub(crate) fn init(config: &Config) -> Result<LogGuard, String> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|error| format!("invalid RUST_LOG: {error}"))?;
    let (writer, guard, ansi) = match &config.log_dir {
        Some(dir) => {
            let (writer, guard) = file_writer(dir)?;
            (BoxMakeWriter::new(writer), Some(guard), false)
        }
        None => (
            BoxMakeWriter::new(std::io::stdout),
            None,
            std::io::IsTerminal::is_terminal(&std::io::stdout()),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let result = match config.env {
        AppEnv::Production => builder.json().flatten_event(true).try_init(),
        AppEnv::Development => builder.try_init(),
    };
    result.map_err(|error| format!("cannot install the logger: {error}"))?;
    Ok(guard)
}

/// A daily rotating file in `dir`, written by a thread of its own, so a
/// request never waits for the disk until 128,000 lines are queued; past
/// that, logging waits rather than dropping lines.
fn file_writer(
    dir: &Path,
) -> Result<(tracing_appender::non_blocking::NonBlocking, WorkerGuard), String> {
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("server.log")
        .build(dir)
        .map_err(|error| format!("invalid LOG_DIR: cannot write log files in {dir:?}: {error}"))?;
    Ok(NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("server-log-writer")
        .finish(appender))
}
