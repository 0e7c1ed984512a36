//! Admin operations of the Redis store: tag purges in bounded batches,
//! counts for dry runs, and key counts by `SCAN`.

use futures_util::StreamExt as _;
use strata_core::redis::fred::interfaces::SetsInterface;
use strata_core::redis::fred::types::Value;

use super::ops::digests;
use super::{PURGE, RedisStore};
use crate::StoreError;
use crate::clock::now_ms;
use crate::store::{Progress, StoreStats};

/// Members of a tag index one purge call reads (`SSCAN` `COUNT`).
pub(super) const TAG_BATCH: u32 = 500;
/// Keys one `SCAN` call reads (`COUNT`).
const SCAN_BATCH: u32 = 1000;
/// Resources of a batch purged at once on a cluster.
const CLUSTER_FANOUT: usize = 16;

impl RedisStore {
    /// A tag purge (`mode` `hard` or `soft`) in batches of about
    /// [`TAG_BATCH`] index members, each one script call; see the type docs
    /// for what is atomic.
    pub(super) async fn purge_tagged(
        &self,
        tag: &str,
        mode: &str,
        progress: &Progress<'_>,
    ) -> Result<u64, StoreError> {
        let tag_key = self.tag_key(tag);
        let scope = if self.shared.clustered {
            "members"
        } else {
            "all"
        };
        let now = now_ms().to_string();
        let (mut cursor, mut done) = (String::from("0"), 0u64);
        loop {
            let args = vec![
                Value::from(&*self.prefix),
                Value::from(mode),
                Value::from(now.as_str()),
                Value::from("batch"),
                Value::from(scope),
                Value::from(cursor.as_str()),
                Value::from(TAG_BATCH),
            ];
            let reply: Value = self.script(&PURGE, vec![tag_key.clone()], args).await?;
            let mut items = digests(reply)?.into_iter();
            let (Some(next), Some(count)) = (items.next(), items.next()) else {
                return Err(StoreError::Corrupt);
            };
            if self.shared.clustered {
                let members: Vec<String> = items.collect();
                self.purge_members(&tag_key, &members, mode).await?;
                done += members.len() as u64;
            } else {
                done += count.parse::<u64>().map_err(|_| StoreError::Corrupt)?;
            }
            progress(done);
            if next == "0" {
                return Ok(done);
            }
            cursor = next;
        }
    }

    /// On a cluster: purges each resource of a batch on its own slot, then
    /// (hard) removes the batch from the index.
    async fn purge_members(
        &self,
        tag_key: &str,
        members: &[String],
        mode: &str,
    ) -> Result<(), StoreError> {
        let mut purges = futures_util::stream::iter(members.to_vec())
            .map(|digest| async move { self.purge_resource(&digest, mode).await })
            .buffer_unordered(CLUSTER_FANOUT);
        while let Some(purged) = purges.next().await {
            purged?;
        }
        if mode == "hard" && !members.is_empty() {
            let (key, members) = (tag_key.to_owned(), members.to_vec());
            self.call(|c| async move { c.srem::<i64, _, _>(key, members).await })
                .await?;
        }
        Ok(())
    }

    /// Members of the tag's index (`SCARD`): resources that expired since
    /// they were tagged count until the index is cleaned.
    pub(super) async fn tag_members(&self, tag: &str) -> Result<u64, StoreError> {
        let key = self.tag_key(tag);
        self.call(|c| async move { c.scard(key).await }).await
    }

    /// Variants stored for a resource (`SCARD` of its variants set).
    pub(super) async fn variants(&self, digest: &str) -> Result<u64, StoreError> {
        let key = self.variants_key(digest);
        self.call(|c| async move { c.scard(key).await }).await
    }

    /// Counts the store's keys by kind with `SCAN` (every master of a
    /// cluster), never `KEYS`: resources (`m:`), entries (`e:`) and tags
    /// (`t:`); bytes are not counted (that would take a call per key).
    pub(super) async fn count_keys(
        &self,
        progress: &Progress<'_>,
    ) -> Result<StoreStats, StoreError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let client = self.pool.next_connected().clone();
        let mut keys = if self.shared.clustered {
            client
                .scan_cluster_buffered(pattern, Some(SCAN_BATCH), None)
                .boxed()
        } else {
            client
                .scan_buffered(pattern, Some(SCAN_BATCH), None)
                .boxed()
        };
        let (mut resources, mut entries, mut tags, mut seen) = (0, 0, 0, 0u64);
        while let Some(key) = keys.next().await {
            let key = key.map_err(StoreError::from)?;
            let Some(rest) = key.as_str().and_then(|k| k.strip_prefix(&*self.prefix)) else {
                continue;
            };
            match rest.get(..2) {
                Some("m:") => resources += 1,
                Some("e:") => entries += 1,
                Some("t:") => tags += 1,
                _ => {}
            }
            seen += 1;
            if seen % u64::from(SCAN_BATCH) == 0 {
                progress(seen);
            }
        }
        progress(seen);
        Ok(StoreStats {
            resources: Some(resources),
            entries: Some(entries),
            tags: Some(tags),
            bytes: None,
        })
    }
}

/// `text` as a literal in a `SCAN MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
