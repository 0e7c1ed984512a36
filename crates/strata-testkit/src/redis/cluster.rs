//! A 3-master Redis Cluster: [`shared_cluster`] per test binary, or private.

use std::ffi::OsString;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::process::{
    CLI_HINT, SERVER_HINT, Supervised, installed, is_free, no_persistence, query,
};

/// Masters in a cluster the test kit starts.
const MASTERS: u16 = 3;
/// The cluster bus of a node listens on its port plus this.
const BUS_OFFSET: u16 = 10_000;
/// Node ports are picked in `FIRST_PORT..FIRST_PORT + PORT_SPAN`: with
/// their bus ports they stay below Linux's ephemeral range (32768 up), so
/// an outgoing connection does not take one between the check and the start.
const FIRST_PORT: u16 = 12_000;
const PORT_SPAN: u16 = 10_765;
/// How long a cluster may take to agree on its slots.
const CLUSTER_WAIT: Duration = Duration::from_secs(30);

/// A Redis Cluster of three masters (no replicas) on `127.0.0.1`, or an
/// external cluster from `REDIS_CLUSTER_URL`.
///
/// Nodes run with `cluster-node-timeout 1000` and
/// `cluster-require-full-coverage no`: while one master is stopped, the
/// others keep serving their slots, so a test sees what the client does
/// rather than a cluster that refuses everything.
#[derive(Debug)]
pub struct RedisCluster {
    url: String,
    ports: Vec<u16>,
    /// Empty for the cluster at `REDIS_CLUSTER_URL`.
    nodes: Vec<Supervised>,
    /// The nodes' files (configuration and logs); `None` when external.
    dir: Option<PathBuf>,
}

/// The cluster shared by the tests of this binary: `REDIS_CLUSTER_URL` when
/// set (a `redis-cluster://` URL), otherwise three `redis-server`s started
/// and joined on first use.
pub fn shared_cluster() -> &'static RedisCluster {
    static SHARED: OnceLock<RedisCluster> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var("REDIS_CLUSTER_URL") {
        Ok(url) if !url.trim().is_empty() => RedisCluster {
            url,
            ports: Vec::new(),
            nodes: Vec::new(),
            dir: None,
        },
        _ => RedisCluster::start(),
    })
}

impl RedisCluster {
    /// Starts three `redis-server`s in cluster mode on free ports (each with
    /// its bus port, 10000 higher, free too) in a private temporary
    /// directory, joins them with `redis-cli --cluster create`, and waits
    /// until every node reports `cluster_state:ok` with all 16384 slots
    /// served. Panics with install instructions when `redis-server` or
    /// `redis-cli` is not installed, and with the nodes' state when the
    /// cluster does not form within 30 s.
    pub fn start() -> Self {
        assert!(installed("redis-server"), "{SERVER_HINT}");
        assert!(installed("redis-cli"), "{CLI_HINT}");
        let dir = private_dir();
        let mut last_error =
            String::from("no 3 consecutive free ports (with their bus ports) found");
        for _ in 0..20 {
            let first = FIRST_PORT + u16::try_from(random() % u64::from(PORT_SPAN)).unwrap_or(0);
            let ports: Vec<u16> = (first..first + MASTERS).collect();
            if !ports
                .iter()
                .all(|&port| is_free(port) && is_free(port + BUS_OFFSET))
            {
                continue;
            }
            let nodes: Vec<Supervised> = ports
                .iter()
                .map(|&port| Supervised::new(port, node_args(&dir, port), Some(dir.clone())))
                .collect();
            if let Err(error) = nodes.iter().try_for_each(Supervised::spawn) {
                last_error = error;
                drop(nodes); // stops those that started
                for port in &ports {
                    let _ = std::fs::remove_file(dir.join(format!("nodes-{port}.conf")));
                }
                continue;
            }
            let cluster = Self {
                url: cluster_url(&ports),
                ports,
                nodes,
                dir: Some(dir),
            };
            cluster.create();
            return cluster;
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("could not start a Redis Cluster: {last_error}");
    }

    /// The cluster's URL as `fred` reads it:
    /// `redis-cluster://127.0.0.1:{p1}?node=127.0.0.1:{p2}&node=127.0.0.1:{p3}`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The masters' ports, in the order of [`stop_master`](Self::stop_master)'s
    /// index (empty for an external cluster). Master `i` serves the `i`th
    /// third of the slots.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The index of the master that serves `slot` (`0..16384`), as the
    /// running masters see it. Only for a cluster the test kit started.
    pub fn master_of(&self, slot: u16) -> usize {
        assert!(
            !self.ports.is_empty(),
            "master_of needs a cluster the test kit started, not REDIS_CLUSTER_URL"
        );
        let nodes = self
            .ports
            .iter()
            .find_map(|&port| query(port, "CLUSTER NODES").ok())
            .unwrap_or_else(|| panic!("no master of the cluster answers ({:?})", self.ports));
        nodes
            .lines()
            .find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let serves = fields.iter().skip(8).any(|range| {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    matches!((low.parse::<u16>(), high.parse::<u16>()),
                        (Ok(low), Ok(high)) if (low..=high).contains(&slot))
                });
                let port = fields
                    .get(1)?
                    .split(['@', ','])
                    .next()?
                    .rsplit(':')
                    .next()?;
                let port: u16 = port.parse().ok()?;
                serves.then(|| self.ports.iter().position(|&p| p == port))?
            })
            .unwrap_or_else(|| panic!("no master serves slot {slot}:\n{nodes}"))
    }

    /// Stops master `i` and returns once it no longer accepts connections.
    /// Its slots have no replica to fail over to: they are unserved until
    /// [`restart_master`](Self::restart_master).
    pub fn stop_master(&self, i: usize) {
        self.node(i, "stopped").stop();
    }

    /// Starts master `i` again on its port with its nodes file, so it
    /// rejoins with its slots, and waits until every node reports
    /// `cluster_state:ok` with all slots served again.
    pub fn restart_master(&self, i: usize) {
        self.node(i, "restarted").restart();
        self.wait_until_ok(&format!("after restarting master {i}"));
    }

    fn node(&self, i: usize, what: &str) -> &Supervised {
        assert!(
            !self.nodes.is_empty(),
            "the cluster at REDIS_CLUSTER_URL cannot be {what}: outage tests use RedisCluster::start()"
        );
        self.nodes
            .get(i)
            .unwrap_or_else(|| panic!("the cluster has {MASTERS} masters, not {}", i + 1))
    }

    /// Assigns the slots and joins the nodes, then waits for them to agree.
    fn create(&self) {
        let output = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(self.ports.iter().map(|port| format!("127.0.0.1:{port}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("cannot run redis-cli: {error}"));
        let text = format!(
            "redis-cli --cluster create: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{text}");
        self.wait_until_ok(&text);
    }

    /// Waits until every node reports the cluster ok with all slots served
    /// by reachable masters; panics with each node's `CLUSTER INFO` and
    /// `context` after 30 s.
    fn wait_until_ok(&self, context: &str) {
        let deadline = Instant::now() + CLUSTER_WAIT;
        loop {
            let infos: Vec<Result<String, String>> = self
                .ports
                .iter()
                .map(|&port| query(port, "CLUSTER INFO"))
                .collect();
            let ok = infos.iter().all(|info| {
                info.as_ref().is_ok_and(|info| {
                    let lines: Vec<&str> = info.lines().map(str::trim_end).collect();
                    ["cluster_state:ok", "cluster_slots_ok:16384"]
                        .iter()
                        .all(|wanted| lines.contains(wanted))
                        && lines.contains(&format!("cluster_known_nodes:{MASTERS}").as_str())
                })
            });
            if ok {
                return;
            }
            if Instant::now() > deadline {
                let mut report = format!(
                    "the Redis Cluster on {:?} did not become ok within {CLUSTER_WAIT:?} \
                     ({context})\n",
                    self.ports
                );
                for (port, info) in self.ports.iter().zip(&infos) {
                    let info = info.as_ref().unwrap_or_else(|error| error);
                    report.push_str(&format!("--- CLUSTER INFO on {port}:\n{info}\n"));
                }
                panic!("{report}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `redis-server` arguments of the node on `port` (besides port and bind).
fn node_args(dir: &Path, port: u16) -> Vec<OsString> {
    let mut args = no_persistence(dir);
    args.extend(
        [
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            "1000",
            "--cluster-require-full-coverage",
            "no",
        ]
        .map(OsString::from),
    );
    args.push("--logfile".into());
    args.push(dir.join(format!("node-{port}.log")).into());
    args.push("--cluster-config-file".into());
    args.push(dir.join(format!("nodes-{port}.conf")).into());
    args
}

fn cluster_url(ports: &[u16]) -> String {
    let mut url = String::from("redis-cluster://");
    for (i, port) in ports.iter().enumerate() {
        url.push_str(match i {
            0 => "",
            1 => "?node=",
            _ => "&node=",
        });
        url.push_str(&format!("127.0.0.1:{port}"));
    }
    url
}

/// A new directory only this process uses, under the system's temporary
/// directory.
fn private_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "strata-redis-cluster-{}-{n}-{}",
            std::process::id(),
            random() % 1_000_000
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return dir,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => panic!("cannot create {}: {error}", dir.display()),
        }
    }
}

/// A number that differs between calls and between processes.
fn random() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}
