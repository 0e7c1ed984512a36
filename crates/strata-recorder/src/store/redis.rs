//! [`RedisStore`]: exchanges shared by every instance on one Redis or Redis
//! Cluster.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_core::ConfigError;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::{HashesInterface, KeysInterface, SortedSetsInterface};
use strata_core::redis::fred::types::Value;
use strata_core::redis::fred::types::scripts::Script;

use super::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, DEFAULT_TTL, Inserted, Store, StoreError, StoreFuture,
    Usage, decode, id_floor,
};
use crate::query::{Page, Query};
use crate::record::{Exchange, Summary};

/// Default for [`RedisStore::prefix`].
pub const DEFAULT_PREFIX: &str = "strata:recorder:";

/// Ids read per round trip while a query fills its page.
const CHUNK: usize = 200;

/// Exchanges in Redis, shared by every instance using the same prefix.
///
/// Layout (`<prefix>` defaults to [`DEFAULT_PREFIX`] and must not hold `{`):
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>{rec}:idx` | sorted set | every id, score 0: ids sort by start time |
/// | `<prefix>{rec}:sum` | hash | id → summary (JSON), what queries filter on |
/// | `<prefix>{rec}:size` | hash | id → bytes it counts for |
/// | `<prefix>{rec}:body` | hash | id → the exchange, deflate-compressed JSON |
/// | `<prefix>{rec}:bytes` | string | the bytes of all exchanges |
///
/// The `{rec}` hash tag puts every key in one slot, so an insert is one
/// Lua script call that is **atomic on a cluster as on one server**: it
/// removes exchanges past the TTL, evicts the oldest until the new one fits
/// the byte budget and the count cap, stores it and sets every key's TTL to
/// the store's TTL. Bounds therefore hold after every insert, whichever
/// instance makes it. The price: one slot (one master) holds and serves
/// the whole recording; size the budget for that master.
///
/// TTL: every key expires a TTL after the last insert; while inserts go on,
/// each one removes exchanges older than the TTL (up to 1000 per call) and
/// reads never return them. No `KEYS`: queries walk the index
/// (`ZREVRANGEBYLEX`) in chunks.
///
/// ```no_run
/// use strata_core::redis::RedisPoolBuilder;
/// use strata_recorder::{RecorderLayer, RedisStore};
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let store = RedisStore::new(pool).prefix("myapp:recorder:").max_bytes(256 << 20);
/// let (layer, handle) = RecorderLayer::builder().store(store).pair()?;
/// # let _ = (layer, handle);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: String,
    max_bytes: u64,
    max_count: u64,
    ttl: Duration,
    insert: Script,
    page: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("max_bytes", &self.max_bytes)
            .field("max_count", &self.max_count)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Exchanges in the Redis `pool` reaches, under [`DEFAULT_PREFIX`], with
    /// the default bounds.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            prefix: DEFAULT_PREFIX.to_owned(),
            max_bytes: DEFAULT_MAX_BYTES,
            max_count: DEFAULT_MAX_COUNT,
            ttl: DEFAULT_TTL,
            insert: Script::from_lua(include_str!("redis/insert.lua")),
            page: Script::from_lua(include_str!("redis/page.lua")),
        }
    }

    /// The key prefix. Default [`DEFAULT_PREFIX`].
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The byte budget; 0 is refused when the layer is built.
    /// Default [`DEFAULT_MAX_BYTES`](super::DEFAULT_MAX_BYTES).
    #[must_use]
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// The count cap; 0 is refused when the layer is built.
    /// Default [`DEFAULT_MAX_COUNT`](super::DEFAULT_MAX_COUNT).
    #[must_use]
    pub fn max_count(mut self, count: u64) -> Self {
        self.max_count = count;
        self
    }

    /// How long an exchange is kept; less than 1 ms (zero included) is
    /// refused when the layer is built. Default [`DEFAULT_TTL`](super::DEFAULT_TTL).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The key of one part of the layout: `idx`, `sum`, `size`, `body` or `bytes`.
    pub fn key(&self, kind: &str) -> String {
        format!("{}{{rec}}:{kind}", self.prefix)
    }

    /// The smallest id still inside the TTL.
    fn live_floor(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        id_floor(now.saturating_sub(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)))
    }

    async fn insert_now(&self, summary: Summary, blob: Vec<u8>) -> Result<Inserted, StoreError> {
        let json = serde_json::to_string(&summary).unwrap_or_default();
        let keys: Vec<String> = ["idx", "sum", "size", "body", "bytes"]
            .iter()
            .map(|k| self.key(k))
            .collect();
        let args: Vec<Value> = vec![
            summary.id.clone().into(),
            json.into(),
            Value::Bytes(blob.into()),
            summary.stored_bytes.to_string().into(),
            self.max_bytes.to_string().into(),
            self.max_count.to_string().into(),
            self.ttl.as_millis().max(1).to_string().into(),
            self.live_floor().into(),
        ];
        let reply: Vec<i64> = self
            .insert
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await
            .map_err(StoreError::Redis)?;
        let n = |i: usize| reply.get(i).map_or(0, |v| u64::try_from(*v).unwrap_or(0));
        Ok(Inserted::new(n(0) == 1, n(1), n(2), n(3)))
    }

    async fn get_now(&self, id: &str) -> Result<Option<Exchange>, StoreError> {
        if *id < *self.live_floor() {
            return Ok(None);
        }
        let blob: Value = self
            .pool
            .hget(self.key("body"), id)
            .await
            .map_err(StoreError::Redis)?;
        let Some(blob) = blob.as_bytes() else {
            return Ok(None);
        };
        let mut exchange = decode(blob)?;
        let size: Option<u64> = self
            .pool
            .hget(self.key("size"), id)
            .await
            .map_err(StoreError::Redis)?;
        exchange.summary.stored_bytes = size.unwrap_or(0);
        Ok(Some(exchange))
    }

    async fn query_now(&self, query: &Query) -> Result<Page, StoreError> {
        let limit = query.page_size();
        let floor = self.live_floor().max(id_floor(query.from_ms.unwrap_or(0)));
        let mut high = match (&query.before, query.to_ms) {
            (Some(before), Some(to)) => before.clone().min(id_floor(to)),
            (Some(before), None) => before.clone(),
            (None, Some(to)) => id_floor(to),
            (None, None) => "g".to_owned(),
        };
        let mut items = Vec::new();
        // At most the count cap is examined for one page.
        let mut examined = 0u64;
        while high > floor && examined < self.max_count {
            let chunk: Vec<Vec<Value>> = self
                .page
                .evalsha_with_reload(
                    self.pool.next(),
                    vec![self.key("idx"), self.key("sum")],
                    vec![format!("({high}"), format!("[{floor}"), CHUNK.to_string()],
                )
                .await
                .map_err(StoreError::Redis)?;
            if chunk.is_empty() {
                break;
            }
            for pair in &chunk {
                examined += 1;
                let Some(id) = pair.first().and_then(Value::as_string) else {
                    continue;
                };
                high = id;
                let Some(json) = pair.get(1).and_then(Value::as_bytes) else {
                    continue;
                };
                let summary: Summary = serde_json::from_slice(json)
                    .map_err(|e| StoreError::Malformed(e.to_string()))?;
                if query.matches(&summary) {
                    items.push(summary);
                    if items.len() == limit {
                        return Ok(Page::new(items, Some(high)));
                    }
                }
            }
            if chunk.len() < CHUNK {
                return Ok(Page::new(items, None));
            }
        }
        let next = (high > floor && examined >= self.max_count).then_some(high);
        Ok(Page::new(items, next))
    }

    async fn usage_now(&self) -> Result<Usage, StoreError> {
        let count: u64 = self
            .pool
            .zcard(self.key("idx"))
            .await
            .map_err(StoreError::Redis)?;
        let bytes: Option<u64> = self
            .pool
            .get(self.key("bytes"))
            .await
            .map_err(StoreError::Redis)?;
        Ok(Usage::new(bytes.unwrap_or(0), count))
    }
}

impl Store for RedisStore {
    fn check(&self) -> Result<(), ConfigError> {
        super::check_bounds(
            [
                "RedisStore::max_bytes",
                "RedisStore::max_count",
                "RedisStore::ttl",
            ],
            self.max_bytes,
            self.max_count,
            self.ttl,
        )
    }

    fn insert(&self, summary: Summary, blob: Vec<u8>) -> StoreFuture<'_, Inserted> {
        Box::pin(self.insert_now(summary, blob))
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Exchange>> {
        Box::pin(self.get_now(id))
    }

    fn query<'a>(&'a self, query: &'a Query) -> StoreFuture<'a, Page> {
        Box::pin(self.query_now(query))
    }

    fn usage(&self) -> StoreFuture<'_, Usage> {
        Box::pin(self.usage_now())
    }
}
