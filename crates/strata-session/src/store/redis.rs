//! [`RedisStore`]: sessions shared by every instance on one Redis or Redis
//! Cluster.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::{ClientLike, HashesInterface, SetsInterface};
use strata_core::redis::fred::types::Value;
use strata_core::redis::fred::types::scripts::Script;

use super::{Record, RecordId, SessionInfo, Store, StoreError, StoreFuture, Update};
use crate::id::user_key;

mod meta;

/// Default for [`RedisStore::prefix`].
pub const DEFAULT_PREFIX: &str = "strata:session:";

/// Sessions in Redis, shared by every instance using the same prefix.
///
/// Layout (`<prefix>` defaults to [`DEFAULT_PREFIX`]):
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>s:{<record id>}` | hash | `_m`: the metadata in one field (below), and `d:<name>` per value (JSON) |
/// | `<prefix>u:{<SHA-256 of the user>}` | set | the user's record ids |
///
/// `_m` is one version-tagged string, `1 <secret> <previous> <grace end>
/// <created> <absolute end> <last seen>` then a newline and the user, user
/// agent and client IP, each `-` (none) or `<byte length>:<bytes>`: secrets
/// are the base64url SHA-256 of the secret (`-` for no previous one), times
/// Unix milliseconds. A session holding one value is two fields.
///
/// Every key has a TTL: a record its idle timeout (never past its end), an
/// index the longest remaining life of its records. A load is one
/// `HGETALL`; a write is one Lua script call on the record's key that
/// checks the presented secret and the record's end, then applies the
/// changed values (`HSET`/`HDEL`), the rotation, the last-seen time and
/// the new expiry, all atomically; a sign-in adds the record to the user's index with a second
/// call.
///
/// # Redis Cluster
///
/// A session's record is one key, so everything a request does to it
/// (read, per-value writes, rotation with its grace window, delete) is
/// atomic on a cluster as on one server. A user's index is another key on
/// another slot: adding to it follows the record write, and it may hold
/// records that have ended or been revoked, which listing prunes. A
/// revocation deletes the record itself, so it takes effect at once.
///
/// ```no_run
/// use strata_core::redis::RedisPoolBuilder;
/// use strata_session::{RedisStore, SessionLayer};
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let (layer, admin) = SessionLayer::builder(RedisStore::new(pool).prefix("myapp:session:")).pair()?;
/// # let _ = (layer, admin);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: String,
    create: Script,
    update: Script,
    delete: Script,
    index: Script,
}

impl RedisStore {
    /// Sessions in the Redis `pool` reaches, under [`DEFAULT_PREFIX`].
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            prefix: DEFAULT_PREFIX.to_owned(),
            create: Script::from_lua(include_str!("redis/create.lua")),
            update: Script::from_lua(include_str!("redis/update.lua")),
            delete: Script::from_lua(include_str!("redis/delete.lua")),
            index: Script::from_lua(include_str!("redis/index.lua")),
        }
    }

    /// The key prefix. Default [`DEFAULT_PREFIX`].
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key of a record.
    pub fn record_key(&self, id: &RecordId) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 26);
        key.push_str(&self.prefix);
        key.push_str("s:{");
        id.push_to(&mut key);
        key.push('}');
        key
    }

    /// The key of a user's index.
    pub fn user_key(&self, user: &str) -> String {
        format!("{}u:{{{}}}", self.prefix, user_key(user))
    }

    async fn add_to_index(&self, user: &str, id: &RecordId, ttl_ms: u64) -> Result<(), StoreError> {
        let _: Value = self
            .index
            .evalsha_with_reload(
                self.pool.next(),
                vec![self.user_key(user)],
                vec![id.to_string(), ttl_ms.max(1).to_string()],
            )
            .await
            .map_err(StoreError::Redis)?;
        Ok(())
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The record in an `HGETALL` answer, read straight from the reply.
fn parse_record(reply: Value) -> Result<Option<Record>, StoreError> {
    let fields = match reply {
        Value::Map(map) => map.inner(),
        Value::Null => return Ok(None),
        _ => return Err(StoreError::Malformed("not a hash".into())),
    };
    let mut meta = None;
    let mut data = HashMap::with_capacity(fields.len().saturating_sub(1));
    for (field, value) in fields {
        let Some(field) = field.as_str() else {
            continue;
        };
        if field == "_m" {
            meta = Some(value);
        } else if let Some(name) = field.strip_prefix("d:") {
            let value = value
                .into_string()
                .ok_or_else(|| StoreError::Malformed(format!("value {name}")))?;
            data.insert(name.to_owned(), value);
        }
    }
    let Some(meta) = meta else {
        // Gone (an empty reply).
        return Ok(None);
    };
    let text = meta
        .as_str()
        .ok_or_else(|| StoreError::Malformed("metadata".into()))?;
    let meta = meta::parse(&text)?;
    Ok(Some(Record {
        secret: meta.secret,
        previous: meta.previous,
        user: meta.user.map(str::to_owned),
        created_ms: meta.created_ms,
        seen_ms: meta.seen_ms,
        expires_ms: meta.expires_ms,
        user_agent: meta.user_agent.map(str::to_owned),
        ip: meta.ip.map(str::to_owned),
        data,
    }))
}

fn info(id: RecordId, meta: Option<&str>) -> Option<SessionInfo> {
    let meta = meta::parse(meta?).ok()?;
    Some(SessionInfo {
        id,
        user: meta.user.map(str::to_owned),
        created_ms: meta.created_ms,
        seen_ms: meta.seen_ms,
        expires_ms: meta.expires_ms,
        user_agent: meta.user_agent.map(str::to_owned),
        ip: meta.ip.map(str::to_owned),
    })
}

impl Store for RedisStore {
    fn load<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async move {
            let reply: Value = self
                .pool
                .hgetall(self.record_key(id))
                .await
                .map_err(StoreError::Redis)?;
            parse_record(reply)
        })
    }

    /// A load is one `HGETALL`, bounded by the pool's command timeout
    /// (`RedisPoolBuilder::command_timeout`) when it has one.
    fn load_bound(&self) -> Option<Duration> {
        let timeout = self.pool.next().perf_config().default_command_timeout;
        (!timeout.is_zero()).then_some(timeout)
    }

    fn create<'a>(
        &'a self,
        id: &'a RecordId,
        record: &'a Record,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut args = Vec::with_capacity(3 + 2 * record.data.len());
            args.push(ttl.as_millis().to_string());
            args.push("_m".to_owned());
            args.push(meta::encode(record));
            for (name, value) in &record.data {
                args.push(format!("d:{name}"));
                args.push(value.clone());
            }
            let created: i64 = self
                .create
                .evalsha_with_reload(self.pool.next(), vec![self.record_key(id)], args)
                .await
                .map_err(StoreError::Redis)?;
            if created == 1
                && let Some(user) = &record.user
            {
                let life = record.expires_ms.saturating_sub(record.seen_ms);
                self.add_to_index(user, id, life).await?;
            }
            Ok(created == 1)
        })
    }

    fn update<'a>(
        &'a self,
        id: &'a RecordId,
        update: &'a Update,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut args = Vec::with_capacity(8 + 2 * update.set.len() + update.remove.len());
            args.push(meta::hash_text(&update.secret));
            args.push(update.now_ms.to_string());
            args.push(ttl.as_millis().to_string());
            args.push(update.seen_ms.to_string());
            match &update.rotate {
                Some(rotation) => {
                    args.push(meta::hash_text(&rotation.secret));
                    args.push(rotation.grace_until_ms.to_string());
                }
                None => args.extend([String::new(), String::new()]),
            }
            args.push(update.sign_in.as_ref().map_or_else(String::new, |sign_in| {
                meta::tail(
                    &sign_in.user,
                    sign_in.user_agent.as_deref(),
                    sign_in.ip.as_deref(),
                )
            }));
            args.push(update.set.len().to_string());
            for (name, value) in &update.set {
                args.push(format!("d:{name}"));
                args.push(value.clone());
            }
            args.extend(update.remove.iter().map(|name| format!("d:{name}")));
            let ends: i64 = self
                .update
                .evalsha_with_reload(self.pool.next(), vec![self.record_key(id)], args)
                .await
                .map_err(StoreError::Redis)?;
            let applied = ends > 0;
            if applied && let Some(sign_in) = &update.sign_in {
                let life = u64::try_from(ends)
                    .unwrap_or(0)
                    .saturating_sub(update.now_ms);
                self.add_to_index(&sign_in.user, id, life).await?;
            }
            Ok(applied)
        })
    }

    fn delete<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let meta: Option<String> = self
                .delete
                .evalsha_with_reload(
                    self.pool.next(),
                    vec![self.record_key(id)],
                    Vec::<String>::new(),
                )
                .await
                .map_err(StoreError::Redis)?;
            let Some(meta) = meta else {
                return Ok(false);
            };
            // A record without readable metadata has no index entry this
            // code can name; listing prunes whatever is left.
            if let Ok(meta::Meta {
                user: Some(user), ..
            }) = meta::parse(&meta)
            {
                let _: i64 = self
                    .pool
                    .srem(self.user_key(user), id.to_string())
                    .await
                    .map_err(StoreError::Redis)?;
            }
            Ok(true)
        })
    }

    fn sessions<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        Box::pin(async move {
            let index = self.user_key(user);
            let members: Vec<String> = self
                .pool
                .smembers(&index)
                .await
                .map_err(StoreError::Redis)?;
            let ids: Vec<RecordId> = members.iter().filter_map(|m| RecordId::parse(m)).collect();
            let mut live = Vec::with_capacity(ids.len());
            let mut dead: Vec<String> = members
                .iter()
                .filter(|m| RecordId::parse(m).is_none())
                .cloned()
                .collect();
            if !ids.is_empty() {
                let pipeline = self.pool.next().pipeline();
                for id in &ids {
                    let _: () = pipeline
                        .hget(self.record_key(id), "_m")
                        .await
                        .map_err(StoreError::Redis)?;
                }
                let rows: Vec<Option<String>> = pipeline.all().await.map_err(StoreError::Redis)?;
                for (id, row) in ids.into_iter().zip(rows) {
                    match info(id, row.as_deref()) {
                        Some(info) if info.user.as_deref() == Some(user) => live.push(info),
                        _ => dead.push(id.to_string()),
                    }
                }
            }
            if !dead.is_empty() {
                let _: i64 = self
                    .pool
                    .srem(&index, dead)
                    .await
                    .map_err(StoreError::Redis)?;
            }
            Ok(live)
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.pool.ping::<()>(None).await.map_err(StoreError::Redis) })
    }
}
