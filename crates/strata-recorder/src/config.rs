//! Settings and the builder of [`RecorderLayer`](crate::RecorderLayer).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use strata_core::ConfigError;

use crate::handle::RecorderHandle;
use crate::layer::RecorderLayer;
use crate::redact::{DEFAULT_REDACTED_FIELDS, DEFAULT_REDACTED_HEADERS, Redactor};
use crate::retain::Retain;
use crate::shared::{Core, Shared, Stats};
use crate::store::{MemoryStore, Store};

/// Default for [`RecorderBuilder::body_cap`]: 8 KiB per body.
pub const DEFAULT_BODY_CAP: usize = 8 * 1024;
/// Largest [`RecorderBuilder::body_cap`]: 1 MiB.
pub const MAX_BODY_CAP: usize = 1024 * 1024;
/// Default for [`RecorderBuilder::queue_capacity`]: 1024 exchanges.
pub const DEFAULT_QUEUE: usize = 1024;
/// Default for [`RecorderBuilder::store_timeout`]: 2 seconds.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Builds a [`RecorderLayer`]: `RecorderLayer::builder()`, setters, then
/// [`build`](Self::build) or [`pair`](Self::pair).
///
/// Defaults: a [`MemoryStore`] with its default bounds, [`Retain::default`]
/// (5xx and exchanges slower than 1 s), 8 KiB per body, a queue of 1024,
/// the default redaction lists and a redaction key drawn at random when the
/// process starts (so redacted values correlate within one process only:
/// set [`redaction_key`](Self::redaction_key) to correlate across instances
/// and restarts).
#[derive(Debug)]
#[must_use]
pub struct RecorderBuilder {
    store: Arc<dyn Store>,
    retain: Retain,
    body_cap: usize,
    queue: usize,
    store_timeout: Duration,
    headers: HashSet<String>,
    fields: HashSet<String>,
    key: Option<Vec<u8>>,
    seed: Option<u64>,
    bad_header: Option<String>,
    paths: Vec<String>,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::metrics::RecorderMetrics>,
}

impl Default for RecorderBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RecorderBuilder {
    /// Every default.
    pub fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            retain: Retain::default(),
            body_cap: DEFAULT_BODY_CAP,
            queue: DEFAULT_QUEUE,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            headers: DEFAULT_REDACTED_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            fields: DEFAULT_REDACTED_FIELDS
                .iter()
                .map(|f| (*f).to_owned())
                .collect(),
            key: None,
            seed: None,
            bad_header: None,
            paths: Vec::new(),
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }

    /// Where kept exchanges go. Default a [`MemoryStore`].
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Which exchanges are kept. Default [`Retain::default`].
    pub fn retain(mut self, retain: Retain) -> Self {
        self.retain = retain;
        self
    }

    /// Bytes kept of each body, request and response (0 to
    /// [`MAX_BODY_CAP`]). Default [`DEFAULT_BODY_CAP`].
    pub fn body_cap(mut self, bytes: usize) -> Self {
        self.body_cap = bytes;
        self
    }

    /// Exchanges waiting for the store; more are dropped and counted.
    /// Default [`DEFAULT_QUEUE`].
    pub fn queue_capacity(mut self, exchanges: usize) -> Self {
        self.queue = exchanges;
        self
    }

    /// How long one store write may take. Default [`DEFAULT_STORE_TIMEOUT`].
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Also redacts the values of this header.
    pub fn redact_header(mut self, name: &str) -> Self {
        match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => {
                self.headers.insert(name.as_str().to_owned());
            }
            Err(_) => self.bad_header = Some(name.to_owned()),
        }
        self
    }

    /// Stores this header as it is, although it is on the default list.
    pub fn keep_header(mut self, name: &str) -> Self {
        self.headers.remove(&name.to_ascii_lowercase());
        self
    }

    /// Also redacts query parameters and body fields of this name
    /// (case-insensitive).
    pub fn redact_field(mut self, name: &str) -> Self {
        self.fields.insert(name.to_ascii_lowercase());
        self
    }

    /// Stores this field as it is, although it is on the default list.
    pub fn keep_field(mut self, name: &str) -> Self {
        self.fields.remove(&name.to_ascii_lowercase());
        self
    }

    /// The key of the keyed hash redacted values become (at least 16
    /// bytes; keep it secret). Default: 32 random bytes per process.
    pub fn redaction_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Some(key.as_ref().to_vec());
        self
    }

    /// Seeds the random part of exchange ids, which also drives sampling of
    /// exchanges without a trace id: for tests that need exact sampling.
    /// Default: random per process.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Records only requests under this path (`/api` covers `/api` and
    /// `/api/...`, not `/apix`); call again for more. Other requests pass
    /// through untouched and uncounted. Default: every path.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.paths.push(prefix.to_owned());
        self
    }

    /// Counts into these collectors.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::metrics::RecorderMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The layer, or the first setting that is wrong.
    ///
    /// Inside a tokio runtime this spawns the background task that stores
    /// kept exchanges; outside one, the first exchange that ends inside a
    /// runtime spawns it (until then kept exchanges wait in the queue).
    pub fn build(self) -> Result<RecorderLayer, ConfigError> {
        self.pair().map(|(layer, _)| layer)
    }

    /// The layer and its [`RecorderHandle`] (queries, export, flags).
    pub fn pair(self) -> Result<(RecorderLayer, RecorderHandle), ConfigError> {
        self.store.check()?;
        self.retain.check()?;
        if let Some(name) = self.bad_header {
            return Err(ConfigError::invalid(
                "redact_header",
                format!("`{name}` is not a header name"),
            ));
        }
        if let Some(prefix) = self.paths.iter().find(|p| !p.starts_with('/')) {
            return Err(ConfigError::invalid(
                "path_prefix",
                format!("`{prefix}` does not start with `/`"),
            ));
        }
        if self.body_cap > MAX_BODY_CAP {
            return Err(ConfigError::invalid("body_cap", "at most 1 MiB"));
        }
        if self.queue == 0 {
            return Err(ConfigError::invalid("queue_capacity", "at least 1"));
        }
        if self.store_timeout.is_zero() {
            return Err(ConfigError::invalid("store_timeout", "must not be zero"));
        }
        let key: Arc<[u8]> = match self.key {
            Some(key) if key.len() < 16 => {
                return Err(ConfigError::invalid("redaction_key", "at least 16 bytes"));
            }
            Some(key) => key.into(),
            None => Arc::from(&rand::random::<[u8; 32]>()[..]),
        };
        let core = Core {
            store: self.store,
            redactor: Redactor::new(self.headers, self.fields, key),
            stats: Stats::default(),
            store_timeout: self.store_timeout,
            #[cfg(feature = "prometheus")]
            metrics: self.metrics,
        };
        let seed = self.seed.unwrap_or_else(rand::random);
        let shared = Arc::new(Shared::new(
            core,
            self.retain,
            self.body_cap,
            seed,
            self.queue,
            self.paths,
        ));
        shared.ensure_worker();
        Ok((
            RecorderLayer::from_shared(shared.clone()),
            RecorderHandle::from_shared(shared),
        ))
    }
}
