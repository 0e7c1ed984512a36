//! The test kit's Redis processes: they answer, stop, restart, and die
//! with the test process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_testkit::redis::{RedisCluster, RedisServer};

/// The reply to one inline command on `127.0.0.1:port`, or `None` when
/// nothing listens there.
fn send(port: u16, command: &str) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut reply = vec![0; 4096];
    let n = stream.read(&mut reply).ok()?;
    Some(String::from_utf8_lossy(&reply[..n]).into_owned())
}

fn listens(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// Waits up to 5 s (the supervisors poll every 100 ms) for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_private_server_stops_and_restarts_on_its_port() {
    let server = RedisServer::start();
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert!(server.ping());
    server.stop();
    assert!(!listens(server.port()));
    server.restart();
    assert_eq!(send(server.port(), "PING").as_deref(), Some("+PONG\r\n"));
}

#[test]
fn a_cluster_serves_every_slot_and_a_master_rejoins_after_a_restart() {
    let cluster = RedisCluster::start();
    let ports = cluster.ports().to_vec();
    assert_eq!(ports.len(), 3);
    assert_eq!(
        cluster.url(),
        format!(
            "redis-cluster://127.0.0.1:{}?node=127.0.0.1:{}&node=127.0.0.1:{}",
            ports[0], ports[1], ports[2]
        )
    );
    for &port in &ports {
        let info = send(port, "CLUSTER INFO").expect("a node answers");
        assert!(info.contains("cluster_state:ok"), "{port}: {info}");
        assert!(info.contains("cluster_slots_assigned:16384"), "{info}");
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
    }
    assert_eq!(
        [0, 5460, 5461, 10922, 10923, 16383].map(|slot| cluster.master_of(slot)),
        [0, 0, 1, 1, 2, 2]
    );
    // A key is refused with a redirection by a master that does not own it.
    let moved = send(ports[1], "SET a 1").expect("a node answers"); // slot 15495
    assert!(moved.starts_with("-MOVED 15495 "), "{moved}");

    cluster.stop_master(1);
    assert!(!listens(ports[1]));
    let survivor = send(ports[0], "CLUSTER INFO").expect("master 0 still answers");
    assert!(survivor.contains("cluster_state:ok"), "{survivor}");
    cluster.restart_master(1);
    let info = send(ports[1], "CLUSTER INFO").expect("master 1 answers again");
    assert!(info.contains("cluster_slots_ok:16384"), "{info}");
    assert_eq!(cluster.master_of(5461), 1, "master 1 kept its slots");
    // `c` is in slot 7365, on master 1.
    assert_eq!(send(ports[1], "SET c 1").as_deref(), Some("+OK\r\n"));
}

/// Set in the child test process of `servers_die_with_a_killed_test_process`.
const CHILD: &str = "STRATA_TESTKIT_HOLD_SERVERS";

/// Run by `servers_die_with_a_killed_test_process` in a child process:
/// starts a server and a cluster, prints their ports, and waits to be
/// killed.
#[test]
#[ignore = "a child process of servers_die_with_a_killed_test_process"]
fn hold_servers_until_killed() {
    assert!(std::env::var_os(CHILD).is_some(), "run by the parent test");
    let server = RedisServer::start();
    let cluster = RedisCluster::start();
    let mut ports = vec![server.port()];
    ports.extend_from_slice(cluster.ports());
    // The parent reads this line; printing is this test's whole job.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ports {ports:?}").expect("stdout");
    stdout.flush().expect("stdout");
    drop(stdout);
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn servers_die_with_a_killed_test_process() {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "hold_servers_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the child");
    let pid = child.id();
    let mut ports = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("the child's output");
        if let Some(rest) = line.strip_prefix("ports ") {
            ports = rest.to_owned();
            break;
        }
    }
    let ports: Vec<u16> = ports
        .trim_matches(['[', ']'])
        .split(", ")
        .map(|port| port.parse().expect("a port"))
        .collect();
    assert_eq!(ports.len(), 4, "{ports:?}");
    assert!(ports.iter().all(|&port| listens(port)));
    child.kill().expect("SIGKILL"); // no destructor runs
    child.wait().expect("reaped");
    eventually("a redis-server outlived its killed test process", || {
        !ports.iter().any(|&port| listens(port))
    });
    let leftover = format!("strata-redis-cluster-{pid}-");
    eventually("the cluster's directory outlived the test process", || {
        std::fs::read_dir(std::env::temp_dir())
            .expect("temp dir")
            .flatten()
            .all(|entry| !entry.file_name().to_string_lossy().starts_with(&leftover))
    });
}
