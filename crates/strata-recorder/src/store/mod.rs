//! Where recorded exchanges live: one small [`Store`] trait, a bounded
//! [`MemoryStore`] and, with feature `redis`, a shared `RedisStore`.
//!
//! A store keeps, per exchange, its [`Summary`] (what queries filter on)
//! and a compressed blob of the whole [`Exchange`] ([`encode`] /
//! [`decode`]). Every store enforces a byte budget, a count cap and a TTL
//! on insert, evicting the oldest exchanges (by start time) first.

use std::fmt;
use std::future::Future;
use std::io::{Read as _, Write as _};
use std::pin::Pin;
use std::time::Duration;

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use strata_core::ConfigError;

use crate::query::{Page, Query};
use crate::record::{Exchange, Summary};

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_PREFIX, RedisStore};

/// Default byte budget of a store: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default count cap of a store: 10 000 exchanges.
pub const DEFAULT_MAX_COUNT: u64 = 10_000;
/// Default time an exchange is kept: 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// The future a [`Store`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer within the recorder's timeout.
    #[error("the recorder store did not answer in time")]
    Timeout,
    /// Redis answered with an error or could not be reached.
    #[cfg(feature = "redis")]
    #[error("redis: {0}")]
    Redis(#[source] strata_core::redis::fred::error::Error),
    /// The store holds something this version cannot read.
    #[error("malformed recorded exchange: {0}")]
    Malformed(String),
}

/// What an insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inserted {
    /// Whether the exchange was stored (`false`: larger than the whole budget).
    pub stored: bool,
    /// Exchanges evicted to make room or because their TTL ran out.
    pub evicted: u64,
    /// Bytes the store holds afterwards.
    pub bytes: u64,
    /// Exchanges the store holds afterwards.
    pub count: u64,
}

impl Inserted {
    /// An insert result.
    pub fn new(stored: bool, evicted: u64, bytes: u64, count: u64) -> Self {
        Self {
            stored,
            evicted,
            bytes,
            count,
        }
    }
}

/// How much a store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Bytes stored (blobs and summaries).
    pub bytes: u64,
    /// Exchanges stored.
    pub count: u64,
}

impl Usage {
    /// A usage figure.
    pub fn new(bytes: u64, count: u64) -> Self {
        Self { bytes, count }
    }
}

/// A store of recorded exchanges.
///
/// `summary.stored_bytes` is the size the exchange counts for against the
/// byte budget (its blob and its summary). Implementations whose settings
/// pass [`check`](Self::check) evict the oldest exchanges first, never hold
/// more than their bounds after an insert, and never return an exchange
/// whose TTL has run out.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Whether the store's settings can work; the layer's
    /// [`build`](crate::RecorderBuilder::build) and
    /// [`pair`](crate::RecorderBuilder::pair) refuse the store with this
    /// error. Default: `Ok(())`.
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Stores one exchange (its blob from [`encode`]).
    fn insert(&self, summary: Summary, blob: Vec<u8>) -> StoreFuture<'_, Inserted>;
    /// One exchange by id.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Exchange>>;
    /// A page of summaries matching `query`, newest first.
    fn query<'a>(&'a self, query: &'a Query) -> StoreFuture<'a, Page>;
    /// What the store holds.
    fn usage(&self) -> StoreFuture<'_, Usage>;
}

/// The blob of an exchange: its JSON, deflate-compressed. Encoding many
/// exchanges is cheaper through one [`Encoder`].
pub fn encode(exchange: &Exchange) -> Vec<u8> {
    Encoder::new().encode(exchange)
}

/// Encodes exchanges into blobs as [`encode`] does, reusing one compressor
/// and one JSON buffer (a fresh deflate compressor zeroes about 300 KB).
pub struct Encoder {
    json: Vec<u8>,
    deflate: DeflateEncoder<Vec<u8>>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder").finish_non_exhaustive()
    }
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder.
    pub fn new() -> Self {
        Self {
            json: Vec::new(),
            deflate: DeflateEncoder::new(Vec::new(), Compression::fast()),
        }
    }

    /// The blob of `exchange`.
    pub fn encode(&mut self, exchange: &Exchange) -> Vec<u8> {
        self.json.clear();
        // Serialising into a Vec and compressing into one cannot fail.
        let _ = serde_json::to_writer(&mut self.json, exchange);
        let _ = self.deflate.write_all(&self.json);
        let blob = self
            .deflate
            .reset(Vec::with_capacity(self.json.len() / 3))
            .unwrap_or_default();
        if self.json.capacity() > 1 << 20 {
            self.json = Vec::new();
        }
        blob
    }
}

/// An exchange from its blob.
pub fn decode(blob: &[u8]) -> Result<Exchange, StoreError> {
    serde_json::from_slice(&inflate(blob)?).map_err(|e| StoreError::Malformed(e.to_string()))
}

/// The JSON of an exchange from its blob.
pub(crate) fn inflate(blob: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut json = Vec::with_capacity(blob.len() * 3);
    DeflateDecoder::new(blob)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::Malformed(e.to_string()))?;
    Ok(json)
}

/// Refuses a byte budget or count cap of 0 and a TTL under 1 ms (both
/// stores count time in whole milliseconds), naming the setting from
/// `settings`: the budget's, the cap's and the TTL's.
pub(crate) fn check_bounds(
    settings: [&'static str; 3],
    max_bytes: u64,
    max_count: u64,
    ttl: Duration,
) -> Result<(), ConfigError> {
    let [bytes, count, time] = settings;
    if max_bytes == 0 {
        return Err(ConfigError::invalid(bytes, "at least 1 byte"));
    }
    if max_count == 0 {
        return Err(ConfigError::invalid(count, "at least 1 exchange"));
    }
    if ttl < Duration::from_millis(1) {
        return Err(ConfigError::invalid(time, "at least 1 ms"));
    }
    Ok(())
}

/// The bytes an exchange counts for: its blob and its summary.
pub(crate) fn footprint(summary: &Summary, blob: &[u8]) -> u64 {
    let summary = serde_json::to_vec(summary).map_or(0, |s| s.len());
    (blob.len() + summary) as u64
}

/// The smallest id of an exchange that started at or after `ms`.
pub(crate) fn id_floor(ms: u64) -> String {
    format!("{:016x}{:016x}", ms.saturating_mul(1000), 0)
}
