//! [`Store::reset`] on Redis: `UNLINK` of a key's policy states, found by
//! name or by `SCAN` (never `KEYS`).

use futures_util::StreamExt as _;
use strata_core::redis::fred::interfaces::KeysInterface;

use super::RedisStore;
use crate::{Key, StoreError};

impl RedisStore {
    /// The policy state keys of `key` (`<prefix>{<form>}:*`), by `SCAN` of
    /// every master.
    async fn policy_keys(&self, key: &Key) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}*", glob_escape(&self.redis_key(key, "")));
        let client = self.pool.next_connected().clone();
        let mut keys = if self.shared.clustered {
            client
                .scan_cluster_buffered(pattern, Some(1000), None)
                .boxed()
        } else {
            client.scan_buffered(pattern, Some(1000), None).boxed()
        };
        let mut found = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|source| StoreError::Redis { source })?;
            if let Some(key) = key.as_str() {
                found.push(key.to_owned());
            }
        }
        Ok(found)
    }

    pub(super) async fn reset_key(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> Result<u64, StoreError> {
        let keys = match policy {
            Some(policy) => vec![self.redis_key(key, policy)],
            None => self.policy_keys(key).await?,
        };
        if keys.is_empty() {
            return Ok(0);
        }
        // One hash tag: every key of `key` is on one slot, so one call.
        self.pool
            .next_connected()
            .unlink(keys)
            .await
            .map_err(|source| StoreError::Redis { source })
    }
}

impl RedisStore {
    pub(super) async fn count_states(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> Result<u64, StoreError> {
        match policy {
            Some(policy) => self
                .pool
                .next_connected()
                .exists(self.redis_key(key, policy))
                .await
                .map_err(|source| StoreError::Redis { source }),
            None => Ok(self.policy_keys(key).await?.len() as u64),
        }
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
