//! The state a layer, its services and its handle share, and the background
//! task that redacts and stores kept exchanges.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::capture::Capture;
use crate::record::{BodyRecord, Exchange};
use crate::redact::Redactor;
use crate::retain::{Flags, Retain};
use crate::store::{self, Store};

/// Counters, readable through [`RecorderHandle::stats`](crate::RecorderHandle::stats).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) recorded: AtomicU64,
    pub(crate) kept: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_over_budget: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) stored_bytes: AtomicU64,
    pub(crate) unrouted: AtomicU64,
}

/// What the background task needs.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) redactor: Redactor,
    pub(crate) stats: Stats,
    pub(crate) store_timeout: Duration,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<crate::metrics::RecorderMetrics>,
}

pub(crate) enum Msg {
    Capture(Box<Capture>),
    Flush(oneshot::Sender<()>),
}

/// Everything a layer's services share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) core: Arc<Core>,
    pub(crate) retain: Retain,
    pub(crate) flags: Flags,
    pub(crate) body_cap: usize,
    pub(crate) seed: u64,
    pub(crate) counter: AtomicU64,
    /// Paths recorded: every path when empty.
    pub(crate) paths: Vec<String>,
    tx: mpsc::Sender<Msg>,
    rx: Mutex<Option<mpsc::Receiver<Msg>>>,
    spawned: AtomicBool,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Capture(_) => "Capture",
            Msg::Flush(_) => "Flush",
        })
    }
}

impl Shared {
    pub(crate) fn new(
        core: Core,
        retain: Retain,
        body_cap: usize,
        seed: u64,
        queue: usize,
        paths: Vec<String>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(queue);
        Self {
            core: Arc::new(core),
            retain,
            flags: Flags::default(),
            body_cap,
            seed,
            counter: AtomicU64::new(0),
            paths,
            tx,
            rx: Mutex::new(Some(rx)),
            spawned: AtomicBool::new(false),
        }
    }

    /// Whether requests to `path` are recorded.
    pub(crate) fn records(&self, path: &str) -> bool {
        self.paths.is_empty()
            || self.paths.iter().any(|prefix| {
                path.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/')
                })
            })
    }

    /// Spawns the background task on the current tokio runtime unless it
    /// runs already; without a runtime, waits for the next call.
    pub(crate) fn ensure_worker(&self) {
        if self.spawned.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(rx) = rx {
            self.spawned.store(true, Ordering::Release);
            runtime.spawn(run(self.core.clone(), rx));
        }
    }

    /// Queues a kept exchange; a full queue drops it (counted).
    pub(crate) fn enqueue(&self, capture: Capture) {
        self.ensure_worker();
        let stats = &self.core.stats;
        stats.kept.fetch_add(1, Ordering::Relaxed);
        if self.tx.try_send(Msg::Capture(Box::new(capture))).is_err() {
            stats.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "recorder: the queue is full, kept exchanges are dropped (counted as \
                     dropped, reason queue_full); raise queue_capacity or check the store"
                );
            }
            #[cfg(feature = "prometheus")]
            if let Some(m) = &self.core.metrics {
                m.dropped("queue_full");
            }
        }
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.core.metrics {
            m.kept();
        }
    }

    /// Counts an exchange that ended (kept or not).
    pub(crate) fn recorded(&self) {
        self.core.stats.recorded.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.core.metrics {
            m.recorded();
        }
    }

    /// Counts an exchange recorded without its route template.
    #[cfg(feature = "axum")]
    pub(crate) fn unrouted(&self) {
        self.core.stats.unrouted.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.core.metrics {
            m.unrouted();
        }
    }

    /// Waits until every exchange queued before this call is stored.
    pub(crate) async fn flush(&self) {
        self.ensure_worker();
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The background task: redacts, encodes and stores each kept exchange.
async fn run(core: Arc<Core>, mut rx: mpsc::Receiver<Msg>) {
    let mut encoder = store::Encoder::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Flush(done) => {
                let _ = done.send(());
            }
            Msg::Capture(capture) => store_one(&core, &mut encoder, *capture).await,
        }
    }
}

fn body(
    core: &Core,
    (prefix, truncated, xxh3_128, total_len): (Vec<u8>, bool, String, u64),
    headers: &http::HeaderMap,
) -> BodyRecord {
    let (prefix, omitted) = core.redactor.body(&prefix, truncated, headers);
    BodyRecord {
        prefix,
        total_len,
        xxh3_128,
        truncated,
        omitted,
    }
}

pub(crate) fn redact(core: &Core, capture: Capture) -> Exchange {
    let mut summary = capture.summary;
    summary.uri = core.redactor.uri(&summary.uri);
    Exchange {
        request_body: body(core, capture.request, &capture.request_headers),
        response_body: body(core, capture.response, &capture.response_headers),
        request_headers: core.redactor.headers(&capture.request_headers),
        response_headers: core.redactor.headers(&capture.response_headers),
        http_version: format!("{:?}", capture.version),
        summary,
    }
}

async fn store_one(core: &Core, encoder: &mut store::Encoder, capture: Capture) {
    let exchange = redact(core, capture);
    let blob = encoder.encode(&exchange);
    let mut summary = exchange.summary;
    summary.stored_bytes = store::footprint(&summary, &blob);
    let stats = &core.stats;
    match tokio::time::timeout(core.store_timeout, core.store.insert(summary, blob)).await {
        Ok(Ok(inserted)) => {
            stats
                .evictions
                .fetch_add(inserted.evicted, Ordering::Relaxed);
            stats.stored_bytes.store(inserted.bytes, Ordering::Relaxed);
            if !inserted.stored {
                stats.dropped_over_budget.fetch_add(1, Ordering::Relaxed);
            }
            #[cfg(feature = "prometheus")]
            if let Some(m) = &core.metrics {
                m.inserted(&inserted);
            }
        }
        Ok(Err(error)) => {
            stats.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, "recorder: an exchange could not be stored");
            #[cfg(feature = "prometheus")]
            if let Some(m) = &core.metrics {
                m.dropped("store_error");
            }
        }
        Err(_) => {
            stats.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("recorder: the store did not answer in time; an exchange is lost");
            #[cfg(feature = "prometheus")]
            if let Some(m) = &core.metrics {
                m.dropped("store_error");
            }
        }
    }
}
