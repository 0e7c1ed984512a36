//! A single `redis-server`: [`shared`] per test binary, or private.

use std::ffi::OsString;
use std::sync::OnceLock;

use super::process::{SERVER_HINT, Supervised, free_port, installed, no_persistence, ping};

/// A `redis-server` on `127.0.0.1`, or an external server from `REDIS_URL`.
#[derive(Debug)]
pub struct RedisServer {
    url: String,
    /// `None` for the server at `REDIS_URL`.
    process: Option<Supervised>,
}

/// The server shared by the tests of this binary: `REDIS_URL` when set,
/// otherwise a `redis-server` started on a free port on first use.
pub fn shared() -> &'static RedisServer {
    static SHARED: OnceLock<RedisServer> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => RedisServer { url, process: None },
        _ => RedisServer::start(),
    })
}

impl RedisServer {
    /// Starts a private `redis-server` on a free port and waits until it
    /// answers `PING`. Panics with install instructions when `redis-server` is
    /// not installed.
    pub fn start() -> Self {
        assert!(installed("redis-server"), "{SERVER_HINT}");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut args = no_persistence(&std::env::temp_dir());
            args.extend(["--logfile".into(), OsString::new()]);
            let process = Supervised::new(port, args, None);
            match process.spawn() {
                Ok(()) => {
                    return Self {
                        url: format!("redis://127.0.0.1:{port}"),
                        process: Some(process),
                    };
                }
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
        self.process.as_ref().map_or(0, Supervised::port)
    }

    /// Stops the server and returns once it no longer accepts connections.
    pub fn stop(&self) {
        self.private("stopped").stop();
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub fn restart(&self) {
        self.private("restarted").restart();
    }

    /// Whether the server answers `PING` right now (an external server is
    /// taken to).
    pub fn ping(&self) -> bool {
        self.process
            .as_ref()
            .is_none_or(|process| ping(process.port()))
    }

    fn private(&self, what: &str) -> &Supervised {
        self.process.as_ref().unwrap_or_else(|| {
            panic!(
                "the server at REDIS_URL cannot be {what}: outage tests use RedisServer::start()"
            )
        })
    }
}
