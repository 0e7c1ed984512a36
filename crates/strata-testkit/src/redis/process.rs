//! One supervised `redis-server` process, and plain RESP over TCP to talk to
//! it without a client library.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub(super) const SERVER_HINT: &str = "redis-server was not found on PATH. The Redis-backed tests \
     need a real server: install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) \
     or `brew install redis` (macOS), or point REDIS_URL (and REDIS_CLUSTER_URL for the cluster \
     tests) at a running server. `scripts/test` installs it when run as root.";

pub(super) const CLI_HINT: &str = "redis-cli was not found on PATH. The Redis Cluster tests \
     create their cluster with it: install it with `sudo apt-get install -y redis-tools` \
     (Debian/Ubuntu; `redis-server` pulls it in) or `brew install redis` (macOS), or point \
     REDIS_CLUSTER_URL at a running cluster. `scripts/test` installs it when run as root.";

/// Runs `redis-server "$@"`, prints its PID, and watches the test process:
/// when it is gone, or on SIGTERM, stops Redis. When the test process is
/// gone it also removes `$CLEANUP` (a private directory), if set.
const SUPERVISOR: &str = r#"
redis-server "$@" >/dev/null &
r=$!
echo $r
exec >/dev/null
trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT
while kill -0 "$PARENT" 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.1; done
kill $r 2>/dev/null
wait $r
if [ -n "$CLEANUP" ] && ! kill -0 "$PARENT" 2>/dev/null; then rm -rf "$CLEANUP"; fi
"#;

/// A `redis-server` on `127.0.0.1:port` with fixed arguments, under the
/// shell supervisor; it can be stopped and started again with the same
/// arguments.
#[derive(Debug)]
pub(super) struct Supervised {
    port: u16,
    args: Vec<OsString>,
    cleanup: Option<PathBuf>,
    child: Mutex<Option<Child>>,
}

impl Supervised {
    /// A process that runs `redis-server --port <port> --bind 127.0.0.1
    /// <args>` once [`spawn`](Self::spawn)ed; `cleanup` is removed by the
    /// supervisor when the test process dies.
    pub(super) fn new(port: u16, args: Vec<OsString>, cleanup: Option<PathBuf>) -> Self {
        Self {
            port,
            args,
            cleanup,
            child: Mutex::new(None),
        }
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server and waits until it answers on its port. Fails when
    /// it exits first (its port taken, say), another server answers there,
    /// or it never answers.
    pub(super) fn spawn(&self) -> Result<(), String> {
        let mut child = Command::new("sh")
            .args(["-c", SUPERVISOR, "strata-redis-supervisor"])
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(&self.args)
            .env("PARENT", std::process::id().to_string())
            .env("CLEANUP", self.cleanup.clone().unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run sh: {error}"))?;
        let mut pid = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut pid);
        }
        // The server answering must be this one: another test process may
        // have taken the port since it was checked.
        let this_one = format!("process_id:{}", pid.trim());
        *self.lock() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match query(self.port, "INFO server") {
                Ok(info) if info.lines().any(|line| line.trim_end() == this_one) => return Ok(()),
                Ok(_) => {
                    self.stop_supervisor();
                    return Err(format!(
                        "port {} is taken by another redis-server",
                        self.port
                    ));
                }
                Err(_) => {}
            }
            let exited = self
                .lock()
                .as_mut()
                .is_none_or(|child| !matches!(child.try_wait(), Ok(None)));
            if exited {
                self.lock().take();
                return Err(if installed("redis-server") {
                    format!("redis-server exited at start (port {} taken?)", self.port)
                } else {
                    SERVER_HINT.to_owned()
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop();
        Err(format!(
            "redis-server on port {} did not answer PING",
            self.port
        ))
    }

    /// Starts the server again on its port, retrying for 10 s while the
    /// port is still held.
    pub(super) fn restart(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(error) if Instant::now() > deadline => panic!("restart failed: {error}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Stops the server and returns once it no longer accepts connections.
    pub(super) fn stop(&self) {
        self.stop_supervisor();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ping(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !ping(self.port),
            "redis-server on port {} did not stop",
            self.port
        );
    }

    /// Stops the supervisor (and so the server) and reaps it.
    fn stop_supervisor(&self) {
        let child = self.lock().take();
        if let Some(mut child) = child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Whether it was started and not stopped.
    pub(super) fn is_started(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // No second panic from `stop`'s check: that would abort.
            self.stop_supervisor();
        } else if self.is_started() {
            self.stop();
        }
    }
}

/// Arguments every test server takes: nothing persisted, warnings only,
/// files (if any) in `dir`.
pub(super) fn no_persistence(dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["--save", "", "--appendonly", "no", "--loglevel", "warning"]
        .map(OsString::from)
        .into();
    args.extend(["--dir".into(), dir.into()]);
    args
}

/// Whether `program --version` runs.
pub(super) fn installed(program: &str) -> bool {
    match Command::new(program).arg("--version").output() {
        Ok(output) => output.status.success(),
        Err(error) => error.kind() != ErrorKind::NotFound,
    }
}

/// Whether a server on `127.0.0.1:port` answers `PING`.
pub(super) fn ping(port: u16) -> bool {
    query(port, "PING").is_ok_and(|reply| reply == "PONG")
}

/// Sends one inline command to `127.0.0.1:port`; the reply (a simple or
/// bulk string, or an integer) as text, or what went wrong.
pub(super) fn query(port: u16, command: &str) -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
        .map_err(|error| format!("connect to {addr}: {error}"))?;
    let io = |error: std::io::Error| format!("{command} on {addr}: {error}");
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(io)?;
    stream
        .write_all(format!("{command}\r\n").as_bytes())
        .map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io)?;
    let line = line.trim_end();
    match line.split_at_checked(1) {
        Some(("+" | ":", rest)) => Ok(rest.to_owned()),
        Some(("$", len)) => {
            let len: usize = len.parse().map_err(|_| format!("bad reply {line:?}"))?;
            let mut body = vec![0; len + 2];
            reader.read_exact(&mut body).map_err(io)?;
            body.truncate(len);
            String::from_utf8(body).map_err(|_| format!("{command}: a reply not in UTF-8"))
        }
        _ => Err(format!("{command} on {addr}: {line}")),
    }
}

/// A free port the OS picks (in its ephemeral range).
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free local port")
}

/// Whether `127.0.0.1:port` can be bound right now.
pub(super) fn is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_another_server_answers_on_is_not_taken_for_started() {
        let args = no_persistence(&std::env::temp_dir());
        let first = Supervised::new(free_port(), args.clone(), None);
        first.spawn().expect("the first server starts");
        // Started without a port check, as when another test process takes
        // the port between the check and the start.
        let second = Supervised::new(first.port(), args, None);
        let error = second.spawn().expect_err("the port was taken");
        assert!(
            error.contains("taken") || error.contains("exited at start"),
            "{error}"
        );
        assert!(!second.is_started());
        assert!(ping(first.port()), "the first server is left running");
    }
}
