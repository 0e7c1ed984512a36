//! [`Store`] on Redis.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderName;
use strata_core::redis::fred::interfaces::{HashesInterface, KeysInterface, SetsInterface};
use strata_core::redis::fred::types::{Expiration, SetOptions, Value};

use super::{INDEX, PURGE, PUT, RELEASE, RedisStore};
use crate::clock::now_ms;
use crate::store::{Lease, Lookup, Notice, Store, Tier};
use crate::{CacheKey, Entry, StoreError};

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        other => other.as_string(),
    }
}

/// `[[vary, soft], entry]` (the pipeline's replies) as `[vary, soft, entry]`.
fn flatten(replies: Vec<Value>) -> Vec<Value> {
    let mut items = Vec::with_capacity(3);
    for reply in replies {
        match reply {
            Value::Array(inner) => items.extend(inner),
            other => items.push(other),
        }
    }
    items
}

pub(super) fn digests(reply: Value) -> Result<Vec<String>, StoreError> {
    match reply {
        Value::Array(items) => Ok(items.iter().filter_map(text).collect()),
        Value::Null => Ok(Vec::new()),
        _ => Err(StoreError::Corrupt),
    }
}

impl RedisStore {
    pub(super) async fn purge_resource(&self, digest: &str, mode: &str) -> Result<(), StoreError> {
        let keys = vec![self.meta_key(digest), self.variants_key(digest)];
        let args = vec![
            Value::from(&*self.prefix),
            Value::from(mode),
            Value::from(now_ms().to_string()),
            Value::from("key"),
            Value::from(""),
            Value::from(digest),
        ];
        self.script::<Value>(&PURGE, keys, args).await.map(drop)
    }
}

impl Store for RedisStore {
    async fn get(&self, key: &CacheKey, variant: &str) -> Result<Lookup, StoreError> {
        let meta_key = self.meta_key(key.digest());
        let entry_key = self.entry_key(key.digest(), variant);
        // Two reads pipelined in one round trip, no script: both keys share
        // the resource's hash tag, so they reach one node. A purge landing
        // between them reads as if it came just before or just after.
        let mut items: Vec<Value> = self
            .call(|client| async move {
                let pipeline = client.pipeline();
                let _: () = pipeline.hmget(meta_key, vec!["vary", "soft"]).await?;
                let _: () = pipeline.get(entry_key).await?;
                let replies: Vec<Value> = pipeline.all().await?;
                Ok(flatten(replies))
            })
            .await?;
        if items.len() != 3 {
            return Err(StoreError::Corrupt);
        }
        let entry = match items.pop() {
            Some(Value::Bytes(b)) => Some(Entry::decode(b)?),
            Some(Value::String(s)) => Some(Entry::decode(Bytes::from(s.to_string()))?),
            _ => None,
        };
        let soft = items
            .pop()
            .as_ref()
            .and_then(text)
            .and_then(|s| s.parse().ok());
        let vary = items.pop().as_ref().and_then(text).map(|names| {
            names
                .split(',')
                .filter(|n| !n.is_empty())
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .collect()
        });
        Ok(Lookup::new(entry, vary, soft).tier(Tier::Shared))
    }

    async fn put(
        &self,
        key: &CacheKey,
        variant: &str,
        entry: Entry,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let digest = key.digest();
        let vary: Vec<&str> = entry.vary.iter().map(HeaderName::as_str).collect();
        let tags = entry.tags.clone();
        let keys = vec![
            self.entry_key(digest, variant),
            self.meta_key(digest),
            self.variants_key(digest),
        ];
        let args = vec![
            Value::Bytes(entry.encode()),
            Value::from(ms(ttl)),
            Value::from(vary.join(",")),
            Value::from(variant),
        ];
        self.script::<Value>(&PUT, keys, args).await?;
        for tag in &tags {
            let args = vec![Value::from(digest), Value::from(ms(ttl))];
            self.script::<Value>(&INDEX, vec![self.tag_key(tag)], args)
                .await?;
        }
        Ok(())
    }

    async fn purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.purge_resource(key.digest(), "hard").await
    }

    async fn purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.purge_tagged(tag, "hard", &|_| ()).await
    }

    async fn soft_purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.purge_resource(key.digest(), "soft").await
    }

    async fn soft_purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.purge_tagged(tag, "soft", &|_| ()).await
    }

    async fn purge_tag_progress(
        &self,
        tag: &str,
        soft: bool,
        progress: &crate::Progress<'_>,
    ) -> Result<u64, StoreError> {
        let mode = if soft { "soft" } else { "hard" };
        self.purge_tagged(tag, mode, progress).await
    }

    async fn count_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.tag_members(tag).await
    }

    async fn count_variants(&self, key: &CacheKey) -> Result<u64, StoreError> {
        self.variants(key.digest()).await
    }

    async fn stats(&self, progress: &crate::Progress<'_>) -> Result<crate::StoreStats, StoreError> {
        self.count_keys(progress).await
    }

    async fn lease(
        &self,
        key: &CacheKey,
        variant: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let token = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            | 1;
        let lease_key = self.lease_key(key.digest(), variant);
        let set: Option<String> = self
            .call(|c| async move {
                c.set(
                    lease_key,
                    token.to_string(),
                    Some(Expiration::PX(ms(ttl))),
                    Some(SetOptions::NX),
                    false,
                )
                .await
            })
            .await?;
        Ok(if set.is_some() {
            Lease::Acquired(token)
        } else {
            Lease::Held
        })
    }

    async fn release(&self, key: &CacheKey, variant: &str, token: u64) -> Result<(), StoreError> {
        let args = vec![
            Value::from(token.to_string()),
            Value::from(self.channel()),
            Value::from(format!("{}:{variant}", key.digest())),
        ];
        self.script::<Value>(&RELEASE, vec![self.lease_key(key.digest(), variant)], args)
            .await
            .map(drop)
    }

    async fn wait(&self, key: &CacheKey, variant: &str, max: Duration) {
        self.wait_for_release(key, variant, max).await;
    }

    async fn broadcast(&self, message: &str) -> Result<(), StoreError> {
        use strata_core::redis::fred::interfaces::PubsubInterface;
        let (channel, message) = (self.invalidate_channel(), message.to_owned());
        self.call(|c| async move { c.publish::<i64, _, _>(channel, message).await })
            .await
            .map(drop)
    }

    async fn listen(&self) -> Option<tokio::sync::broadcast::Receiver<Notice>> {
        // Subscribed before the subscriber starts, so its first `Resync`
        // (sent once the subscription is active) reaches this listener.
        let notices = self.shared.notices.subscribe();
        self.subscribe().await;
        Some(notices)
    }
}

impl RedisStore {
    /// Whether the lease of a variant is still held.
    pub(super) async fn leased(&self, digest: &str, variant: &str) -> Result<bool, StoreError> {
        let key = self.lease_key(digest, variant);
        self.call(|c| async move { c.exists::<i64, _>(key).await })
            .await
            .map(|n| n > 0)
    }
}

impl RedisStore {
    /// Removes index entries whose resource is gone (expired or purged by
    /// key) from every tag index under the prefix, scanning with `SCAN`
    /// (every master of a cluster) and never `KEYS`; returns how many were
    /// removed. A maintenance call, for a periodic job: its cost grows with
    /// the number of tags and tagged resources.
    pub async fn clean_tags(&self) -> Result<u64, StoreError> {
        use futures_util::StreamExt;
        let pattern = format!("{}t:*", self.prefix);
        let client = self.pool.next_connected().clone();
        let mut keys = if self.shared.clustered {
            client
                .scan_cluster_buffered(pattern, Some(500), None)
                .boxed()
        } else {
            client.scan_buffered(pattern, Some(500), None).boxed()
        };
        let mut tags = Vec::new();
        while let Some(key) = keys.next().await {
            if let Some(key) = key.map_err(StoreError::from)?.as_str() {
                tags.push(key.to_owned());
            }
        }
        let mut removed = 0;
        for tag in tags {
            let t = tag.clone();
            let members: Vec<String> = self.call(|c| async move { c.smembers(t).await }).await?;
            for digest in members {
                let meta = self.meta_key(&digest);
                let live: i64 = self.call(|c| async move { c.exists(meta).await }).await?;
                if live == 0 {
                    let t = tag.clone();
                    removed += self
                        .call(|c| async move { c.srem::<u64, _, _>(t, digest).await })
                        .await?;
                }
            }
        }
        Ok(removed)
    }
}
