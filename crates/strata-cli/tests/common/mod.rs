//! Running the built `strata` binary, and state filled as a service would.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs `strata args` with `REDIS_URL=redis_url` (and `env`), stdin not a
/// terminal, in a blocking thread.
pub async fn strata(redis_url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(args)
        .env("REDIS_URL", redis_url)
        .env("USER", "ops-test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "STRATA_CACHE_PREFIX",
        "STRATA_SESSION_PREFIX",
        "STRATA_RATE_LIMIT_PREFIX",
        "STRATA_AUDIT_STREAM",
        "STRATA_SERVICE",
        "STRATA_ADMIN_TOKEN",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub async fn pool(url: &str) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .unwrap()
        .command_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    assert!(strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await);
    pool
}

/// The audit stream's entries, oldest first, as field maps.
pub async fn audit(pool: &Pool, stream: &str) -> Vec<std::collections::HashMap<String, String>> {
    use strata_core::redis::fred::interfaces::StreamsInterface as _;
    let entries: Vec<(String, std::collections::HashMap<String, String>)> =
        pool.next().xrange(stream, "-", "+", None).await.unwrap();
    entries.into_iter().map(|(_, fields)| fields).collect()
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
