//! [`RateLimitAdmin`]: inspect and reset a client's rate-limit state.

use std::time::Duration;

use crate::{Key, Policy, Store, StoreError};

/// Inspects and resets the state a store keeps for a key, for operators
/// (the `strata` tool) and admin endpoints. Works on any [`Store`]:
/// [`MemoryStore`](crate::MemoryStore) (in the service's own process) or
/// [`RedisStore`](crate::RedisStore) (from anywhere).
///
/// Reading the remaining quota needs the policy's [`Quota`](crate::Quota),
/// which only the service's configuration knows: pass the same
/// [`Policy`] the layer enforces (the quota is part of a memory store's
/// state lookup, and the arithmetic of remaining and Retry-After).
/// Resetting needs only the policy's name.
///
/// ```no_run
/// # #[cfg(feature = "redis")]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use strata_core::redis::RedisPoolBuilder;
/// use strata_rate_limit::{Key, Policy, Quota, RateLimitAdmin, RedisStore};
///
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let admin = RateLimitAdmin::new(RedisStore::new(pool));
/// let key = Key::ip("192.0.2.1".parse()?);
/// let usage = admin.show(&key, &Policy::new("per-ip", Quota::per_minute(60))).await?;
/// println!("{} left, full in {:?}", usage.remaining, usage.full_in);
/// admin.reset(&key, Some("per-ip")).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitAdmin<S> {
    store: S,
}

/// A key's state under one policy, as [`RateLimitAdmin::show`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// The policy's name.
    pub policy: String,
    /// Requests that may arrive at once with a full quota (the burst).
    pub limit: u64,
    /// Requests of cost 1 allowed right now.
    pub remaining: u64,
    /// Time until the quota is whole again (zero: the key is unused).
    pub full_in: Duration,
    /// Time until a request of cost 1 would be allowed (the `Retry-After`
    /// it would get); zero when one is allowed now.
    pub retry_after: Duration,
}

impl<S: Store> RateLimitAdmin<S> {
    /// An admin handle on `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// `key`'s state under `policy`, read without consuming anything.
    pub async fn show(&self, key: &Key, policy: &Policy) -> Result<Usage, StoreError> {
        let decision = self
            .store
            .check(key, std::slice::from_ref(policy), 0)
            .await?;
        let state = decision
            .policies()
            .first()
            .ok_or_else(|| StoreError::Reply("no policy state".into()))?;
        let quota = policy.quota();
        let interval = quota.emission_interval();
        let limit = u64::from(quota.burst_size());
        let full_in = state.reset();
        let window = interval.saturating_mul(quota.burst_size());
        let retry_after = if state.remaining() > 0 {
            Duration::ZERO
        } else {
            (full_in + interval).saturating_sub(window)
        };
        Ok(Usage {
            policy: policy.name().to_owned(),
            limit,
            remaining: state.remaining(),
            full_in,
            retry_after,
        })
    }

    /// How many policy states [`reset`](Self::reset) would remove; changes
    /// nothing (a dry run).
    pub async fn states(&self, key: &Key, policy: Option<&str>) -> Result<u64, StoreError> {
        self.store.states(key, policy).await
    }

    /// Forgets `key`'s state under the policy named `policy` (every policy
    /// when `None`): its whole quota is available again. Returns how many
    /// policy states were removed (0: the key had used none).
    pub async fn reset(&self, key: &Key, policy: Option<&str>) -> Result<u64, StoreError> {
        self.store.reset(key, policy).await
    }
}
