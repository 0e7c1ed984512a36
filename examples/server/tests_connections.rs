//! Connection bounds of the real server process, probed with raw sockets.
//!
//! Timeouts are set small through the environment; every wait has a ceiling
//! many times longer (10 s), and lower bounds are measured from before the
//! server could start its timer, so no assertion depends on machine speed.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use strata::core::redis::RedisPoolBuilder;
use strata::core::redis::fred::interfaces::KeysInterface;

use crate::tests_process::{ServerProcess, http_get, start_with};

const CEILING: Duration = Duration::from_secs(10);

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(CEILING)).expect("timeout");
    stream
}

/// Reads one response (head and `Content-Length` body); `None` when the
/// connection closes or nothing arrives within the read timeout.
fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server closed `stream` (EOF or reset) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn get_keep_alive(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").expect("send");
    read_response(stream).expect("a response")
}

#[test]
fn dripping_headers_are_cut_off_after_the_header_timeout() {
    let server = start_with(&[("HEADER_READ_TIMEOUT", "0.3"), ("IDLE_TIMEOUT", "60")]);
    let started = Instant::now();
    let mut stream = connect(&server.addr);
    stream
        .write_all(b"GET /api/items/1 HTTP/1.1\r\nHost: test\r\n")
        .expect("send");
    let closed = loop {
        // One header line every 50 ms: never idle, never complete.
        if stream.write_all(b"X-Drip: a\r\n").is_err()
            || closed_within(&mut stream, Duration::from_millis(50))
        {
            break started.elapsed();
        }
        assert!(started.elapsed() < CEILING, "still open after {CEILING:?}");
    };
    assert!(
        closed >= Duration::from_millis(300),
        "closed after {closed:?}"
    );
}

#[test]
fn silent_connections_are_closed_after_the_header_timeout() {
    let server = start_with(&[("HEADER_READ_TIMEOUT", "0.3"), ("IDLE_TIMEOUT", "60")]);
    let started = Instant::now();
    let mut stream = connect(&server.addr);
    assert!(
        closed_within(&mut stream, CEILING),
        "silent connection kept open"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let server = start_with(&[("IDLE_TIMEOUT", "0.3"), ("HEADER_READ_TIMEOUT", "60")]);
    let mut stream = connect(&server.addr);
    let sent = Instant::now();
    assert!(get_keep_alive(&mut stream, "/api/items/1").starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut stream, CEILING),
        "idle connection kept open"
    );
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "{:?}",
        sent.elapsed()
    );
}

#[test]
fn a_slow_body_is_answered_408_problem() {
    let server = start_with(&[
        ("BODY_TIMEOUT", "0.3"),
        ("IDLE_TIMEOUT", "60"),
        ("HEADER_READ_TIMEOUT", "60"),
    ]);
    let mut stream = connect(&server.addr);
    stream
        .write_all(
            b"PUT /api/items/1 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 200\r\n\r\n{\"name\":",
        )
        .expect("send");
    let mut writer = stream.try_clone().expect("clone");
    // One byte every 50 ms: the body would take 10 s.
    std::thread::spawn(move || {
        for _ in 0..190 {
            if writer.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let response = read_response(&mut stream).expect("a response");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
}

#[test]
fn connections_over_the_limit_wait_for_a_free_slot() {
    let server = start_with(&[("MAX_CONNECTIONS", "2"), ("IDLE_TIMEOUT", "60")]);
    let mut held: Vec<TcpStream> = (0..2).map(|_| connect(&server.addr)).collect();
    for stream in &mut held {
        assert!(get_keep_alive(stream, "/health/live").starts_with("HTTP/1.1 200"));
    }
    let mut third = connect(&server.addr);
    write!(third, "GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n").expect("send");
    // Both slots are held for 60 s: nothing can answer the third meanwhile.
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    assert_eq!(read_response(&mut third), None, "served over the limit");
    drop(held.pop());
    third.set_read_timeout(Some(CEILING)).expect("timeout");
    let response = read_response(&mut third).expect("served once a slot frees");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn sigterm_with_a_half_sent_request_exits_within_the_deadline() {
    let mut server = start_with(&[
        ("DRAIN_SECONDS", "0"),
        ("SHUTDOWN_TIMEOUT", "0.5"),
        ("HEADER_READ_TIMEOUT", "60"),
        ("IDLE_TIMEOUT", "60"),
        ("BODY_TIMEOUT", "60"),
    ]);
    let mut stream = connect(&server.addr);
    // Accepted and served once, then half of the next request's head.
    assert!(get_keep_alive(&mut stream, "/health/live").starts_with("HTTP/1.1 200"));
    stream
        .write_all(b"GET /api/items HTTP/1.1\r\nHost: te")
        .expect("send");
    // A request in flight: its handler waits for the rest of the body.
    let mut in_flight = connect(&server.addr);
    assert!(get_keep_alive(&mut in_flight, "/health/live").starts_with("HTTP/1.1 200"));
    in_flight
        .write_all(
            b"PUT /api/items/1 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"name\":",
        )
        .expect("send");
    let mut idle = connect(&server.addr);
    assert!(get_keep_alive(&mut idle, "/health/live").starts_with("HTTP/1.1 200"));
    // A moment for the server to read the in-flight head; if it has not,
    // that request is half-sent too, and the deadline bounds both.
    std::thread::sleep(Duration::from_millis(100));
    terminate(&server);
    let exit = wait_exit(&mut server);
    assert!(exit.success(), "{exit:?}");
}

fn terminate(server: &ServerProcess) {
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(server: &mut ServerProcess) -> std::process::ExitStatus {
    let deadline = Instant::now() + CEILING;
    loop {
        if let Some(exit) = server.child.try_wait().expect("wait") {
            return exit;
        }
        assert!(
            Instant::now() < deadline,
            "still running {CEILING:?} after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn http11_requests_need_exactly_one_host() {
    let server = start_with(&[]);
    let ask = |request: &str| {
        let mut stream = connect(&server.addr);
        stream.write_all(request.as_bytes()).expect("send");
        read_response(&mut stream).expect("a response")
    };
    for request in [
        "GET /api/items/1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /api/items/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    ] {
        let response = ask(request);
        assert!(
            response.starts_with("HTTP/1.1 400"),
            "{request:?}: {response}"
        );
        assert!(response.contains("application/problem+json"), "{response}");
    }
    let response = ask("GET /api/items/1 HTTP/1.0\r\n\r\n");
    assert!(response.starts_with("HTTP/1.0 200"), "{response}");
}

/// Waits (10 s at most) for a log event with `message`.
fn event(server: &ServerProcess, message: &str) -> serde_json::Value {
    let deadline = Instant::now() + CEILING;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = server.events.recv_timeout(left).expect("no such log event");
        if event["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(message))
        {
            return event;
        }
    }
}

#[tokio::test]
async fn the_first_request_after_listening_is_counted_in_redis() {
    let redis = strata_testkit::redis::RedisServer::start();
    let server = start_with(&[("REDIS_URL", redis.url()), ("REDIS_CONNECT_WAIT", "5")]);
    let response = http_get(&server.addr, "/api/items/1");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let pool = RedisPoolBuilder::from_url(redis.url())
        .expect("url")
        .connect()
        .await
        .expect("pool");
    let key = "strata:rl:{ip:127.0.0.1}:anonymous";
    let deadline = tokio::time::Instant::now() + CEILING;
    while pool.exists::<u32, _>(key).await.ok() != Some(1) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request was not counted in Redis"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        event(&server, "connected to Redis")["redis_host"],
        "127.0.0.1"
    );
}

#[test]
fn with_redis_down_the_server_waits_then_starts_degraded() {
    let redis = strata_testkit::redis::RedisServer::start();
    let url = format!("redis://:s3cret@127.0.0.1:{}", redis.port());
    redis.stop();
    let started = Instant::now();
    let server = start_with(&[("REDIS_URL", &url), ("REDIS_CONNECT_WAIT", "1")]);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "listened after {waited:?}"
    );
    let warning = event(&server, "Redis is not reachable");
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert_eq!(warning["redis_host"], "127.0.0.1", "{warning}");
    assert!(!warning.to_string().contains("s3cret"), "{warning}");
    let response = http_get(&server.addr, "/api/items/1");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}
