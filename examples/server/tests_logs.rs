//! `LOG_DIR`: the server process writing its logs to files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::tests_process::{http_get, server};

/// A fresh path under the system's temporary directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("strata-{name}-{}-{nanos}", std::process::id()));
        Self(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Every JSON event in the files of `dir`, with the files' names.
fn log_files(dir: &Path) -> (Vec<String>, Vec<serde_json::Value>) {
    let mut names = Vec::new();
    let mut events = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        names.push(entry.file_name().to_string_lossy().into_owned());
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        events.extend(
            text.lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()),
        );
    }
    (names, events)
}

#[test]
fn log_dir_receives_every_log_line_up_to_shutdown_and_stdout_none() {
    let root = TempPath::new("logs");
    // A directory that does not exist yet: the server creates it.
    let dir = root.0.join("server");
    let dir_text = dir.to_str().expect("UTF-8 temporary path");
    let mut child = server(&[
        ("PORT", "0"),
        ("APP_ENV", "production"),
        ("DRAIN_SECONDS", "0"),
        ("LOG_DIR", dir_text),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("start the server");
    let mut stdout = child.stdout.take().expect("stdout");
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });

    // The address comes from the "listening" line, read from the file.
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = loop {
        let (_, events) = log_files(&dir);
        if let Some(event) = events.iter().find(|e| e["message"] == "listening") {
            break event["addr"].as_str().expect("addr").to_owned();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no \"listening\" line in {dir:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let response = http_get(&addr, "/api/items/1");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");

    let (names, events) = log_files(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    let date = names[0]
        .strip_prefix("server.log.")
        .expect("server.log.<date>");
    assert_eq!(date.len(), "2026-01-31".len(), "{date}");
    let request = events.iter().find(|event| {
        event["message"] == "finished processing request" && event["span"]["uri"] == "/api/items/1"
    });
    let request = request.unwrap_or_else(|| panic!("no request line in {events:#?}"));
    assert_eq!(request["level"], "INFO");
    // The last line, written as the process stops, is in the file too.
    assert_eq!(
        events.last().map(|e| &e["message"]),
        Some(&"stopped".into())
    );

    let stdout = stdout.join().expect("stdout reader");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(!stdout.contains("\"message\""), "{stdout}");
}

/// Runs the server with `LOG_DIR` set to `path`; its exit status and
/// stderr. A server that starts anyway is killed after 20 s and fails the test.
fn run_with_log_dir(path: &str) -> (Option<i32>, String) {
    let mut child = server(&[("PORT", "0"), ("LOG_DIR", path)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started with LOG_DIR={path:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr);
    (exit.code(), stderr)
}

#[test]
fn an_unusable_log_dir_stops_startup_naming_the_variable_and_the_path() {
    let file = TempPath::new("not-a-dir");
    std::fs::write(&file.0, "a regular file").expect("write a file");
    let path = file.0.to_str().expect("UTF-8 temporary path");
    let (code, stderr) = run_with_log_dir(path);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("server: invalid LOG_DIR: "),
        "{stderr}"
    );
    assert!(lines[0].contains(path), "{stderr}");
    // Nor can a directory be created below it.
    let below = file.0.join("logs");
    let below = below.to_str().expect("UTF-8 temporary path");
    let (code, stderr) = run_with_log_dir(below);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("server: invalid LOG_DIR: "), "{stderr}");
    assert!(stderr.contains(below), "{stderr}");
}
