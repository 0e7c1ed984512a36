//! Real `redis-server` processes for tests.
//!
//! [`shared()`] is one server per test binary (or the server at `REDIS_URL`);
//! every test takes its own key prefix from [`unique_prefix`], so tests run in
//! parallel on it. Outage tests start a private [`RedisServer`] they may stop
//! and restart without disturbing other tests.
//!
//! Each server runs under a small shell supervisor that kills it when the test
//! process exits, even when the test process is killed, so no `redis-server`
//! outlives the tests.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "redis-server was not found on PATH. The Redis-backed tests need a real \
     server: install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or \
     `brew install redis` (macOS), or point REDIS_URL at a running server. `scripts/test` \
     installs it when run as root.";

/// Watches the test process: when it is gone, or on SIGTERM, stop Redis.
const SUPERVISOR: &str = r#"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$DIR" --loglevel warning --logfile '' &
r=$!
trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT
while kill -0 "$PARENT" 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.1; done
kill $r 2>/dev/null
wait $r
"#;

/// A `redis-server` on `127.0.0.1`, or an external server from `REDIS_URL`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    url: String,
    supervisor: Mutex<Option<Child>>,
    external: bool,
}

/// The server shared by the tests of this binary: `REDIS_URL` when set,
/// otherwise a `redis-server` started on a free port on first use.
pub fn shared() -> &'static RedisServer {
    static SHARED: OnceLock<RedisServer> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => RedisServer {
            port: 0,
            url,
            supervisor: Mutex::new(None),
            external: true,
        },
        _ => RedisServer::start(),
    })
}

/// A key prefix no other test in any running test process uses:
/// `strata-test:{name}:{pid}:{n}:`.
pub fn unique_prefix(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("strata-test:{name}:{}:{n}:", std::process::id())
}

impl RedisServer {
    /// Starts a private `redis-server` on a free port and waits until it
    /// answers `PING`. Panics with install instructions when `redis-server` is
    /// not installed.
    pub fn start() -> Self {
        assert!(which_redis(), "{INSTALL_HINT}");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let server = Self {
                port,
                url: format!("redis://127.0.0.1:{port}"),
                supervisor: Mutex::new(None),
                external: false,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// The server's URL, `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port (0 for an external server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server and returns once it no longer accepts connections.
    pub fn stop(&self) {
        assert!(
            !self.external,
            "the server at REDIS_URL cannot be stopped: outage tests use RedisServer::start()"
        );
        let child = self.lock().take();
        if let Some(mut child) = child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ping() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !self.ping(),
            "redis-server on port {} did not stop",
            self.port
        );
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub fn restart(&self) {
        assert!(
            !self.external,
            "the server at REDIS_URL cannot be restarted"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(error) if Instant::now() > deadline => panic!("restart failed: {error}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Whether the server answers `PING` right now.
    pub fn ping(&self) -> bool {
        if self.external {
            return true;
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    fn spawn(&self) -> Result<(), String> {
        let dir = std::env::temp_dir();
        let child = Command::new("sh")
            .args(["-c", SUPERVISOR])
            .env("PORT", self.port.to_string())
            .env("DIR", Path::new(&dir))
            .env("PARENT", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot run sh: {error}"))?;
        *self.lock() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            let exited = self
                .lock()
                .as_mut()
                .is_none_or(|child| !matches!(child.try_wait(), Ok(None)));
            if exited {
                self.lock().take();
                return Err(if which_redis() {
                    format!("redis-server exited at start (port {} taken?)", self.port)
                } else {
                    INSTALL_HINT.to_owned()
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!(
            "redis-server on port {} did not answer PING",
            self.port
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.supervisor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if !self.external && self.lock().is_some() {
            self.stop();
        }
    }
}

fn which_redis() -> bool {
    match Command::new("redis-server").arg("--version").output() {
        Ok(output) => output.status.success(),
        Err(error) => error.kind() != ErrorKind::NotFound,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free local port")
}
