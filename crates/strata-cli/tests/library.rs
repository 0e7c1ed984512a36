//! The library entry points: `run_to` writes the output to the caller's
//! writer, and the audit stream records the command line it was given
//! (not the process's).
#![allow(clippy::unwrap_used)]

mod common;

use common::audit;
use strata_testkit::redis::{shared, unique_prefix};

/// Runs `args` (after the program name) in-process on a blocking thread;
/// the exit code and what was written to the writer.
async fn run_to(args: &[&str]) -> (u8, String) {
    let mut line = vec!["strata".to_owned()];
    line.extend(args.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let code = strata_cli::run_to(line, &mut out);
        (code, String::from_utf8(out).unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn writes_version_and_help_to_the_writer_and_usage_errors_exit_64() {
    let (code, out) = run_to(&["--version"]).await;
    assert_eq!(
        (code, out.as_str()),
        (0, concat!("strata ", env!("CARGO_PKG_VERSION"), "\n"))
    );
    let (code, out) = run_to(&["session", "--help"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("revoke"), "{out}");
    let (code, out) = run_to(&["session", "revoke", "alice"]).await;
    assert_eq!((code, out.as_str()), (64, ""), "neither --all nor --id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_json_to_the_writer_and_audits_the_given_command_line() {
    let url = shared().url();
    let prefix = unique_prefix("cli-lib");
    let stream = format!("{prefix}audit");
    let args = [
        "--redis-url",
        url,
        "--rate-limit-prefix",
        &prefix,
        "--audit-stream",
        &stream,
        "--token",
        "s3cret",
        "ratelimit",
        "reset",
        "global",
        "--dry-run",
        "--json",
    ];
    let (code, out) = run_to(&args).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"action": "ratelimit reset", "target": "key global, every policy",
            "count": 0, "dry_run": true})
    );
    let entries = audit(&common::pool(url).await, &stream).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let expected = format!(
        "strata --redis-url {url} --rate-limit-prefix {prefix} --audit-stream {stream} \
         --token *** ratelimit reset global --dry-run --json"
    );
    assert_eq!(entries[0]["command"], expected);
}
