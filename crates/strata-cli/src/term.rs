//! The terminal: confirmation prompts, progress on stderr, output on
//! stdout or the caller's writer (a table, or JSON with `--json`).

use std::io::{BufRead as _, IsTerminal as _, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::fail::Fail;

/// Asks before `what` (a sentence with counts), unless `yes`. Off a
/// terminal, refuses without `--yes`.
pub(crate) fn confirm(what: &str, yes: bool) -> Result<(), Fail> {
    eprintln!("{what}");
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Fail::usage(
            "refusing to change anything without --yes (stdin is not a terminal)",
        ));
    }
    eprint!("Proceed? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Fail::failure(format!("cannot read the answer: {e}")))?;
    match answer.trim() {
        "y" | "Y" | "yes" | "YES" | "Yes" => Ok(()),
        _ => Err(Fail::failure("aborted: nothing changed")),
    }
}

/// Progress of a long operation on stderr when it is a terminal (at most
/// ten updates a second); nothing when piped.
pub(crate) struct Progress {
    label: &'static str,
    total: Option<u64>,
    shown: Option<std::sync::Mutex<Instant>>,
    last: AtomicU64,
}

impl Progress {
    pub(crate) fn new(label: &'static str, total: Option<u64>) -> Self {
        let shown = std::io::stderr()
            .is_terminal()
            .then(|| std::sync::Mutex::new(Instant::now() - Duration::from_secs(1)));
        Self {
            label,
            total,
            shown,
            last: AtomicU64::new(0),
        }
    }

    pub(crate) fn report(&self, done: u64) {
        self.last.store(done, Ordering::Relaxed);
        let Some(shown) = &self.shown else { return };
        let Ok(mut at) = shown.lock() else { return };
        if at.elapsed() < Duration::from_millis(100) {
            return;
        }
        *at = Instant::now();
        match self.total {
            Some(total) => eprint!("\r{}: {done}/{total}", self.label),
            None => eprint!("\r{}: {done}", self.label),
        }
    }

    pub(crate) fn finish(&self) {
        if self.shown.is_some() {
            eprintln!(
                "\r{}: {} done",
                self.label,
                self.last.load(Ordering::Relaxed)
            );
        }
    }
}

/// Writes `json` with `--json`, else the rows as an aligned table, to
/// `out` (stdout for the binary).
pub(crate) fn output(
    out: &mut dyn Write,
    json: bool,
    value: &serde_json::Value,
    rows: &[Vec<String>],
) {
    let text = if json {
        format!("{value:#}\n")
    } else {
        table(rows)
    };
    let _ = out.write_all(text.as_bytes());
}

/// Rows (the first is the header) as columns padded to their widest cell.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

/// Unix milliseconds as RFC 3339 (seconds).
pub(crate) fn time(ms: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A duration rounded to milliseconds, in humantime's format.
pub(crate) fn span(d: Duration) -> String {
    let ms = Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if ms.is_zero() {
        return "0s".to_owned();
    }
    humantime::format_duration(ms).to_string()
}
