//! `strata health` against a real HTTP server answering health reports:
//! exit 0 for pass, 1 for warn, 2 for fail and for an unreachable port or
//! a server that does not answer within the timeout.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::strata;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// A server answering every request with `status` and a health report of
/// `verdict` (or never answering, with `None`).
async fn server(answer: Option<(u16, &'static str)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let Some((status, verdict)) = answer else {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                };
                let body = format!(
                    r#"{{"status":"{verdict}","checks":{{"redis:responseTime":[{{"status":"{verdict}","time":"2026-01-01T00:00:00Z","output":"probe said {verdict}"}}]}}}}"#
                );
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/health+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/health/detailed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_report() {
    for (status, verdict, code) in [(200, "pass", 0), (200, "warn", 1), (503, "fail", 2)] {
        let url = server(Some((status, verdict))).await;
        let run = strata("redis://unused", &["health", &url], &[]).await;
        assert_eq!(run.code, code, "{verdict}: {run:?}");
        assert!(run.stdout.contains("redis:responseTime"), "{run:?}");
        assert!(
            run.stdout.contains(&format!("probe said {verdict}")),
            "{run:?}"
        );
        let json = strata("redis://unused", &["health", &url, "--json"], &[]).await;
        assert_eq!(json.json()["status"], verdict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_or_silent_is_a_failure_within_the_timeout() {
    let closed = format!("http://127.0.0.1:{}/health", common::closed_port());
    let run = strata("redis://unused", &["health", &closed], &[]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with(&format!("strata: {closed} unreachable")),
        "{run:?}"
    );
    assert_eq!(run.stderr.lines().count(), 1);

    let silent = server(None).await;
    let started = Instant::now();
    let run = strata(
        "redis://unused",
        &["health", &silent, "--timeout", "300ms"],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        format!("strata: {silent}: no answer within 300ms")
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded by the timeout"
    );

    let bad = strata("redis://unused", &["health", "localhost:80"], &[]).await;
    assert_eq!(bad.code, 64, "{bad:?}");
    let bad_timeout = strata(
        "redis://unused",
        &["health", &silent, "--timeout", "5 parsecs"],
        &[],
    )
    .await;
    assert_eq!(bad_timeout.code, 64, "{bad_timeout:?}");
}
