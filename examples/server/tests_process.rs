//! The compiled server run as a process, the way an operator runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "STRATA_EXAMPLE_SERVER_PROCESS";

/// The server's `main`, reached by running this test binary again with
/// [`CHILD`] set; the tests below do that to get a real server process.
#[test]
#[ignore = "entry point of the server process that the process tests start"]
fn server_process() {
    if std::env::var_os(CHILD).is_some() {
        std::process::exit(i32::from(super::serve_until_stopped()));
    }
}

/// This binary, running only [`server_process`].
pub(crate) fn server(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary path"));
    command.args([
        "--exact",
        "tests_process::server_process",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command.env(CHILD, "1");
    for var in [
        "BIND",
        "PORT",
        "REDIS_URL",
        "APP_ENV",
        "TRUSTED_PROXIES",
        "RUST_LOG",
        "LOG_DIR",
        "DRAIN_SECONDS",
        "REDIS_CONNECT_WAIT",
        "HEADER_READ_TIMEOUT",
        "IDLE_TIMEOUT",
        "BODY_TIMEOUT",
        "MAX_CONNECTIONS",
        "MAX_HEADER_BYTES",
        "SHUTDOWN_TIMEOUT",
        "ADMIN_PORT",
        "ADMIN_TOKEN",
        "ALLOWED_HOSTS",
        "CORS_ORIGINS",
        "SENTRY_DSN",
        "SENTRY_RELEASE",
        "SENTRY_ENVIRONMENT",
    ] {
        command.env_remove(var);
    }
    command.envs(vars.iter().copied());
    command
}

#[test]
fn bad_settings_stop_startup_with_one_line_naming_the_variable() {
    let cases = [
        ("PORT", "abc"),
        ("TRUSTED_PROXIES", "10.0.0.0/40"),
        ("APP_ENV", "prod"),
        ("RUST_LOG", "[=foo"),
        ("ADMIN_PORT", "99999"),
    ];
    for (var, value) in cases {
        let output = server(&[(var, value)]).output().expect("run the server");
        assert_eq!(output.status.code(), Some(1), "{var}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{var}={value}: {stderr}");
        assert!(
            lines[0].starts_with(&format!("server: invalid {var}")),
            "{stderr}"
        );
    }
}

/// A running server process, killed when dropped (a failing test leaves none).
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// Every JSON log event, as the server wrote it.
    pub(crate) events: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the server on a free port with JSON logs and waits (10 s at most)
/// for its "listening" line.
fn start() -> ServerProcess {
    start_with(&[("DRAIN_SECONDS", "2")])
}

/// [`start`] with more variables (which win over its own).
pub(crate) fn start_with(vars: &[(&str, &str)]) -> ServerProcess {
    let mut all = vec![("PORT", "0"), ("APP_ENV", "production")];
    all.extend_from_slice(vars);
    let mut child = server(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let (events_tx, events) = std::sync::mpsc::channel();
    // Reads every log line, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The test harness writes its own text first, without a line break.
            let json = line.find('{').map_or("", |start| &line[start..]);
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(json) {
                if event["message"] == "listening" {
                    let _ = tx.send(event["addr"].as_str().unwrap_or_default().to_owned());
                }
                let _ = events_tx.send(event);
            }
        }
    });
    let mut process = ServerProcess {
        child,
        addr: String::new(),
        events,
    };
    process.addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server did not log that it listens");
    process
}

pub(crate) fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn serves_over_tcp_and_stops_cleanly_on_sigterm() {
    let mut server = start();
    let addr = server.addr.clone();
    let response = http_get(&addr, "/api/items/1");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"id\":1"), "{response}");
    let response = http_get(&addr, "/api/items");
    assert!(response.len() > 10 * 1024, "{} bytes", response.len());

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // Readiness fails first, while requests are still served.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !http_get(&addr, "/health/ready").starts_with("HTTP/1.1 503") {
        assert!(
            Instant::now() < deadline,
            "readiness did not fail on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(http_get(&addr, "/api/items/1").starts_with("HTTP/1.1 200"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn the_admin_port_serves_runtime_metrics_and_profiles_behind_its_token() {
    let server = start_with(&[("ADMIN_PORT", "0"), ("ADMIN_TOKEN", "admin-t0ken")]);
    let admin = loop {
        let event = server
            .events
            .recv_timeout(Duration::from_secs(10))
            .expect("the admin listener was not logged");
        if event["message"] == "admin listener (profiling, runtime metrics)" {
            break event["addr"].as_str().expect("addr").to_owned();
        }
    };
    assert!(admin.starts_with("127.0.0.1:"), "{admin}");
    let refused = http_get(&admin, "/debug/runtime");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let mut stream = TcpStream::connect(&admin).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET /debug/runtime HTTP/1.1\r\nHost: {admin}\r\nAuthorization: Bearer admin-t0ken\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"workers\""), "{response}");
    // The application's own port does not serve the admin routes.
    assert!(http_get(&server.addr, "/debug/runtime").starts_with("HTTP/1.1 404"));
}
