//! [`RedisStore`]: sessions shared by every instance on one Redis or Redis
//! Cluster.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::{ClientLike, HashesInterface, SetsInterface};
use strata_core::redis::fred::types::Value;
use strata_core::redis::fred::types::scripts::Script;

use super::{Record, RecordId, SecretHash, SessionInfo, Store, StoreError, StoreFuture, Update};
use crate::id::user_key;

/// Default for [`RedisStore::prefix`].
pub const DEFAULT_PREFIX: &str = "strata:session:";

/// Sessions in Redis, shared by every instance using the same prefix.
///
/// Layout (`<prefix>` defaults to [`DEFAULT_PREFIX`]):
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>s:{<record id>}` | hash | `d:<name>` per value (JSON), and `_k` (SHA-256 of the secret), `_pk`/`_pu` (previous secret and its grace end), `_u` (user), `_c`/`_t`/`_x` (created, last seen, absolute end, Unix ms), `_ua`, `_ip` |
/// | `<prefix>u:{<SHA-256 of the user>}` | set | the user's record ids |
///
/// Every key has a TTL: a record its idle timeout (never past its end), an
/// index the longest remaining life of its records. A load is one
/// `HGETALL`; a write is one Lua script call on the record's key that
/// checks the presented secret and the record's end, then applies the
/// changed values (`HSET`/`HDEL`), the rotation and the new expiry, all
/// atomically; a sign-in adds the record to the user's index with a second
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
        format!("{}s:{{{id}}}", self.prefix)
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

fn hash_text(hash: &SecretHash) -> String {
    URL_SAFE_NO_PAD.encode(hash.0)
}

fn parse_hash(text: &str) -> Result<SecretHash, StoreError> {
    let mut bytes = [0; 32];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
        Ok(32) => Ok(SecretHash(bytes)),
        _ => Err(StoreError::Malformed("secret hash".into())),
    }
}

fn number(fields: &HashMap<String, String>, name: &str) -> Result<u64, StoreError> {
    fields
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Malformed(format!("field {name}")))
}

fn parse_record(mut fields: HashMap<String, String>) -> Result<Option<Record>, StoreError> {
    let Some(secret) = fields.get("_k") else {
        // Gone, or only a stray field left by a write racing a delete.
        return Ok(None);
    };
    let secret = parse_hash(secret)?;
    let previous = match (fields.get("_pk"), fields.get("_pu")) {
        (Some(hash), Some(_)) => Some((parse_hash(hash)?, number(&fields, "_pu")?)),
        _ => None,
    };
    let created_ms = number(&fields, "_c")?;
    let seen_ms = number(&fields, "_t")?;
    let expires_ms = number(&fields, "_x")?;
    let user = fields.remove("_u");
    let user_agent = fields.remove("_ua");
    let ip = fields.remove("_ip");
    let data = fields
        .into_iter()
        .filter_map(|(field, value)| Some((field.strip_prefix("d:")?.to_owned(), value)))
        .collect();
    Ok(Some(Record {
        secret,
        previous,
        user,
        created_ms,
        seen_ms,
        expires_ms,
        user_agent,
        ip,
        data,
    }))
}

fn info(id: RecordId, fields: Vec<Option<String>>) -> Option<SessionInfo> {
    let mut fields = fields.into_iter();
    let mut next = || fields.next().flatten();
    let user = next()?;
    let created_ms = next()?.parse().ok()?;
    let seen_ms = next()?.parse().ok()?;
    let expires_ms = next()?.parse().ok()?;
    Some(SessionInfo {
        id,
        user: Some(user),
        created_ms,
        seen_ms,
        expires_ms,
        user_agent: next(),
        ip: next(),
    })
}

impl Store for RedisStore {
    fn load<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async move {
            let fields: HashMap<String, String> = self
                .pool
                .hgetall(self.record_key(id))
                .await
                .map_err(StoreError::Redis)?;
            parse_record(fields)
        })
    }

    fn create<'a>(
        &'a self,
        id: &'a RecordId,
        record: &'a Record,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut args = Vec::with_capacity(16 + 2 * record.data.len());
            args.push(ttl.as_millis().to_string());
            let mut field = |name: &str, value: String| {
                args.push(name.to_owned());
                args.push(value);
            };
            field("_k", hash_text(&record.secret));
            field("_c", record.created_ms.to_string());
            field("_t", record.seen_ms.to_string());
            field("_x", record.expires_ms.to_string());
            for (name, value) in [
                ("_u", &record.user),
                ("_ua", &record.user_agent),
                ("_ip", &record.ip),
            ] {
                if let Some(value) = value {
                    field(name, value.clone());
                }
            }
            for (name, value) in &record.data {
                field(&format!("d:{name}"), value.clone());
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
            let mut args = Vec::with_capacity(11 + 2 * update.set.len() + update.remove.len());
            args.push(hash_text(&update.secret));
            args.push(update.now_ms.to_string());
            args.push(ttl.as_millis().to_string());
            args.push(update.seen_ms.to_string());
            match &update.rotate {
                Some(rotation) => {
                    args.push(hash_text(&rotation.secret));
                    args.push(rotation.grace_until_ms.to_string());
                }
                None => args.extend([String::new(), String::new()]),
            }
            match &update.sign_in {
                Some(sign_in) => {
                    args.push("1".into());
                    args.push(sign_in.user.clone());
                    args.push(sign_in.user_agent.clone().unwrap_or_default());
                    args.push(sign_in.ip.clone().unwrap_or_default());
                }
                None => args.extend([String::new(), String::new(), String::new(), String::new()]),
            }
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
            let user: Option<String> = self
                .delete
                .evalsha_with_reload(
                    self.pool.next(),
                    vec![self.record_key(id)],
                    Vec::<String>::new(),
                )
                .await
                .map_err(StoreError::Redis)?;
            let Some(user) = user else {
                return Ok(false);
            };
            if !user.is_empty() {
                let _: i64 = self
                    .pool
                    .srem(self.user_key(&user), id.to_string())
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
                        .hmget(
                            self.record_key(id),
                            vec!["_u", "_c", "_t", "_x", "_ua", "_ip"],
                        )
                        .await
                        .map_err(StoreError::Redis)?;
                }
                let rows: Vec<Vec<Option<String>>> =
                    pipeline.all().await.map_err(StoreError::Redis)?;
                for (id, row) in ids.into_iter().zip(rows) {
                    match info(id, row) {
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
