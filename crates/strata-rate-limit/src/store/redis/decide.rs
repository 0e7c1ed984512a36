//! The Redis store's decisions: the deny cache, the outage policy, the
//! connection state, and the reply of the script.

use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;
use strata_core::redis::fred::types::Key as RedisKey;
use strata_core::redis::fred::util::redis_keyslot;
use tokio::sync::oneshot;

use super::{OnStoreError, RedisStore};
use crate::decision::{Counts, Evaluation, Gcra, Outcome};
use crate::store::batch::{Pending, Sender};
use crate::store::{Store, StoreError};
use crate::{Decision, Key, Policy};
use strata_core::redis::Route;

impl RedisStore {
    fn keys(&self, key: &Key, policies: &[Policy]) -> Vec<RedisKey> {
        policies
            .iter()
            .map(|policy| RedisKey::from(self.redis_key(key, policy.name())))
            .collect()
    }

    /// The decision under the outage policy and deny cache (the layer's path).
    pub(crate) async fn decide(&self, key: &Key, policies: &[Policy], cost: u32) -> Outcome {
        let keys = self.keys(key, policies);
        let cache_key = (cost > 0).then(|| {
            let mut cache_key = format!("{cost}");
            for k in &keys {
                cache_key.push(' ');
                cache_key.push_str(&String::from_utf8_lossy(k.as_bytes()));
            }
            cache_key
        });
        if let Some(decision) = cache_key.as_deref().and_then(|k| self.deny_cache.get(k)) {
            return Outcome::Decided(decision);
        }
        match self.run(keys, policies, cost).await {
            Ok(decision) => {
                if let (false, Some(cache_key)) = (decision.allowed, cache_key) {
                    self.deny_cache.insert(cache_key, &decision);
                }
                Outcome::Decided(decision)
            }
            Err(_) => match self.on_error {
                OnStoreError::Fallback => {
                    Outcome::Fallback(self.fallback.decide(key, policies, cost))
                }
                OnStoreError::FailOpen => Outcome::FailOpen,
                OnStoreError::FailClosed => Outcome::FailClosed,
            },
        }
    }

    /// [`call`](Self::call), keeping track of the connection (see
    /// [`Link`](strata_core::redis::Link)): once Redis is known to be down, while the pool has no
    /// connection up, Redis is not tried (the pool reconnects on its own;
    /// the first decision after that tries again). Logs the failure that
    /// marks Redis down and the recovery.
    async fn run(
        &self,
        keys: Vec<RedisKey>,
        policies: &[Policy],
        cost: u32,
    ) -> Result<Evaluation, StoreError> {
        let link = &self.shared.link;
        let result = match link.route(&self.pool) {
            // Known to be down: answer now rather than queue a command
            // that can only time out.
            Route::Skip => Err(StoreError::Disconnected),
            Route::Send => self.call(keys, policies, cost).await,
        };
        match &result {
            Ok(_) => {
                if link.succeeded() {
                    tracing::info!("rate-limit store reachable again");
                }
            }
            Err(error) => {
                if link.failed() {
                    tracing::warn!(%error, policy = ?self.on_error, "rate-limit store failed");
                } else {
                    tracing::debug!(%error, "rate-limit store failed");
                }
            }
        }
        result
    }

    /// One decision through the batch queue and the script.
    async fn call(
        &self,
        keys: Vec<RedisKey>,
        policies: &[Policy],
        cost: u32,
    ) -> Result<Evaluation, StoreError> {
        let mut rule = SmallVec::with_capacity(2 * policies.len());
        for policy in policies {
            let quota = policy.quota();
            rule.push(i64::try_from(quota.emission_micros()).unwrap_or(i64::MAX));
            rule.push(i64::from(quota.burst_size()));
        }
        let slot = match keys.first() {
            Some(key) if self.shared.clustered => Some(redis_keyslot(key.as_bytes())),
            _ => None,
        };
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            keys,
            rule,
            cost: i64::from(cost),
            slot,
            deadline: tokio::time::Instant::now() + self.timeout,
            timeout: self.timeout,
            reply,
        };
        self.sender().submit(pending).await;
        // No timer here: the sender answers by the deadline (a timeout when
        // Redis is late), or drops the reply if its runtime goes away.
        let reply = match answer.await {
            Ok(reply) => reply?,
            Err(_) => {
                return Err(StoreError::Reply(
                    "the decision was dropped before Redis answered".into(),
                ));
            }
        };
        parse(&reply, policies, cost)
    }

    fn sender(&self) -> Sender {
        Sender {
            pool: self.pool.clone(),
            batcher: Arc::clone(&self.shared.batcher),
            sha: Arc::clone(&self.shared.sha),
            timeout: self.timeout,
        }
    }
}

/// Reads the script's reply for one decision (`allowed`, then per policy
/// `max(tat, now) − now` in microseconds) into its numbers, with the same
/// integer GCRA as the memory store.
fn parse(reply: &[i64], policies: &[Policy], cost: u32) -> Result<Evaluation, StoreError> {
    let bad = || StoreError::Reply(format!("{reply:?}"));
    if reply.len() != 1 + policies.len() {
        return Err(bad());
    }
    let allowed = reply[0] == 1;
    let micros = Duration::from_micros;
    let mut states: SmallVec<[Counts; 2]> = SmallVec::new();
    for (policy, &since) in policies.iter().zip(&reply[1..]) {
        let tat = u64::try_from(since).map_err(|_| bad())?;
        let gcra = Gcra {
            t: policy.quota().emission_micros(),
            burst: u64::from(policy.quota().burst_size()),
        };
        // Times relative to the server's `now`, taken as 0.
        let mut eval = gcra.eval(Some(tat), 0, u64::from(cost));
        if !allowed && eval.allowed {
            // This policy had room, another refused: nothing was consumed.
            eval = gcra.eval(Some(tat), 0, 0);
        }
        states.push(Counts {
            limited: !eval.allowed,
            remaining: eval.remaining,
            reset: micros(eval.reset),
            retry_after: micros(eval.retry),
        });
    }
    if allowed != states.iter().all(|state| !state.limited) {
        return Err(bad());
    }
    Ok(Evaluation { allowed, states })
}

impl Store for RedisStore {
    /// The script's decision; errors and timeouts are returned, not handled
    /// by the outage policy, and the deny cache is not used.
    fn check(
        &self,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> impl Future<Output = Result<Decision, StoreError>> + Send {
        let keys = self.keys(key, policies);
        async move {
            if policies.len() > crate::rule::MAX_POLICIES {
                return Err(StoreError::TooManyPolicies);
            }
            Ok(self
                .run(keys, policies, cost)
                .await?
                .into_decision(policies))
        }
    }

    /// `UNLINK` of the key's state under `policy`, or of every policy
    /// state of the key (found by `SCAN`, every master of a cluster).
    /// Instances that refused the key keep refusing it from their deny
    /// cache until the retry time they announced.
    fn reset(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.reset_key(key, policy)
    }

    /// `EXISTS` of the key's state under `policy`, or a `SCAN` for every
    /// policy state of the key.
    fn states(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.count_states(key, policy)
    }
}
