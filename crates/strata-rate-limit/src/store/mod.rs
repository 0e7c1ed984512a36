//! Where rate-limit state lives: [`MemoryStore`] on one instance,
//! [`RedisStore`](crate::RedisStore) (feature `redis`) shared by many.

#[cfg(feature = "redis")]
mod batch;
#[cfg(feature = "redis")]
mod deny_cache;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;

use std::future::Future;

use crate::{Decision, Key, Policy};

pub use self::memory::{MemoryClock, MemoryStore};

/// A rate-limit backend: checks one request against the policies of its
/// rule, atomically.
///
/// Both implementations ([`MemoryStore`] and
/// [`RedisStore`](crate::RedisStore)) run GCRA with the same integer
/// arithmetic and pass one conformance suite: the same sequence of requests
/// gets the same decisions and the same header values from either.
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// Checks a request of `cost` units for `key` against every policy (at
    /// most 8): either all policies allow it and all consume `cost`, or the
    /// request is limited and nothing is consumed. A cost of 0 only reads the
    /// state.
    fn check(
        &self,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> impl Future<Output = Result<Decision, StoreError>> + Send;

    /// Forgets `key`'s state under the policy named `policy`, or under
    /// every policy when `None`: the key has its whole burst again. Returns
    /// how many policy states there were. An admin operation
    /// ([`RateLimitAdmin::reset`](crate::RateLimitAdmin::reset)); the
    /// default answers [`StoreError::Unsupported`].
    fn reset(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = (key, policy);
        async { Err(StoreError::Unsupported("reset")) }
    }

    /// How many policy states [`reset`](Self::reset) would remove, changing
    /// nothing (a dry run). The default answers [`StoreError::Unsupported`].
    fn states(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = (key, policy);
        async { Err(StoreError::Unsupported("states")) }
    }
}

/// A store could not decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Redis returned an error, or the command failed or timed out in the
    /// client.
    #[cfg(feature = "redis")]
    #[error("redis: {source}")]
    Redis {
        /// The client's error.
        #[source]
        source: strata_core::redis::fred::error::Error,
    },
    /// The store did not answer within its timeout.
    #[error("the rate-limit store did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// No connection to Redis is up (the pool is reconnecting): the store
    /// did not try, so the request did not wait.
    #[cfg(feature = "redis")]
    #[error("no connection to redis is up (reconnecting)")]
    Disconnected,
    /// More policies than a rule may have (8) were passed.
    #[error("at most {max} policies can be checked together", max = crate::rule::MAX_POLICIES)]
    TooManyPolicies,
    /// The store answered something this crate did not expect.
    #[error("unexpected reply from the rate-limit store: {0}")]
    Reply(String),
    /// The store does not implement this (admin) operation.
    #[error("the rate-limit store does not support `{0}`")]
    Unsupported(&'static str),
}

impl StoreError {
    /// The same error, for every decision of a failed batch.
    #[cfg(feature = "redis")]
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Redis { source } => Self::Redis {
                source: source.clone(),
            },
            Self::Timeout(timeout) => Self::Timeout(*timeout),
            Self::Disconnected => Self::Disconnected,
            Self::TooManyPolicies => Self::TooManyPolicies,
            Self::Reply(reply) => Self::Reply(reply.clone()),
            Self::Unsupported(what) => Self::Unsupported(what),
        }
    }
}
