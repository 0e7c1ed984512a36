//! Where session records live: one small [`Store`] trait, a bounded
//! [`MemoryStore`] and, with feature `redis`, a shared `RedisStore`.
//!
//! A store keeps, per session, one record: its metadata and a map of named
//! values, each serialised on its own, so a request that changes one value
//! writes that value only and two requests that change different values do
//! not overwrite each other. Writes to an existing record carry the secret
//! the request presented, and the store applies them only while that secret
//! (or the previous one, inside its grace window) is the record's: a record
//! deleted, revoked or rotated away is never written back.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use crate::id::{RecordId, SecretHash};

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::{DEFAULT_MAX_SESSIONS, MemoryStore};
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_PREFIX, RedisStore};

/// The future a [`Store`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A session store failed. The layer bounds every call by its timeout and
/// applies its outage policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer within the layer's timeout.
    #[error("the session store did not answer in time")]
    Timeout,
    /// Redis answered with an error or could not be reached.
    #[cfg(feature = "redis")]
    #[error("redis: {0}")]
    Redis(#[source] strata_core::redis::fred::error::Error),
    /// The store holds something this version cannot read.
    #[error("malformed session record: {0}")]
    Malformed(String),
}

/// One session as the store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// SHA-256 of the current secret.
    pub secret: SecretHash,
    /// The secret before the last rotation and the time (Unix milliseconds)
    /// until which it is still accepted.
    pub previous: Option<(SecretHash, u64)>,
    /// The signed-in principal, if any.
    pub user: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Last activity the store was told about, Unix milliseconds.
    pub seen_ms: u64,
    /// The absolute end of the session, Unix milliseconds.
    pub expires_ms: u64,
    /// `User-Agent` when the session was created or signed in.
    pub user_agent: Option<String>,
    /// Client IP when the session was created or signed in.
    pub ip: Option<String>,
    /// Values by name, each as JSON text.
    pub data: HashMap<String, String>,
}

impl Record {
    /// Whether `secret` opens this record at `now_ms`: the current secret,
    /// or the previous one before its grace window ends.
    pub fn accepts(&self, secret: &SecretHash, now_ms: u64) -> bool {
        self.secret.matches(secret)
            || self
                .previous
                .is_some_and(|(previous, until)| now_ms < until && previous.matches(secret))
    }

    /// The metadata a session list shows.
    pub fn info(&self, id: RecordId) -> SessionInfo {
        SessionInfo {
            id,
            user: self.user.clone(),
            created_ms: self.created_ms,
            seen_ms: self.seen_ms,
            expires_ms: self.expires_ms,
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("user", &self.user)
            .field("created_ms", &self.created_ms)
            .field("seen_ms", &self.seen_ms)
            .field("expires_ms", &self.expires_ms)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A change to an existing record, applied atomically and only if
/// [`secret`](Self::secret) still opens the record at
/// [`now_ms`](Self::now_ms) and the record has not reached its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The secret the request presented.
    pub secret: SecretHash,
    /// The layer's clock, Unix milliseconds.
    pub now_ms: u64,
    /// A new secret, the old one staying valid until `grace_until_ms`.
    pub rotate: Option<Rotation>,
    /// A sign-in: the principal, and where it signed in from.
    pub sign_in: Option<SignIn>,
    /// Values to set (name, JSON text).
    pub set: Vec<(String, String)>,
    /// Values to remove.
    pub remove: Vec<String>,
    /// The new last-activity time, Unix milliseconds.
    pub seen_ms: u64,
}

/// A new secret for a record (id rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// SHA-256 of the new secret.
    pub secret: SecretHash,
    /// Until when the replaced secret still opens the record (Unix ms).
    pub grace_until_ms: u64,
}

/// The principal a session signs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The user id.
    pub user: String,
    /// `User-Agent` of the signing-in request.
    pub user_agent: Option<String>,
    /// Client IP of the signing-in request.
    pub ip: Option<String>,
}

/// One of a user's sessions, as [`SessionAdmin::list`](crate::SessionAdmin::list)
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The record id (not a credential).
    #[serde(serialize_with = "serialize_display")]
    pub id: RecordId,
    /// The signed-in user.
    pub user: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Last recorded activity, Unix milliseconds (kept to within the
    /// layer's touch interval).
    pub seen_ms: u64,
    /// Absolute end, Unix milliseconds.
    pub expires_ms: u64,
    /// `User-Agent` at creation or sign-in.
    pub user_agent: Option<String>,
    /// Client IP at creation or sign-in.
    pub ip: Option<String>,
}

fn serialize_display<S: serde::Serializer>(id: &RecordId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// A session backend. Implement it to keep sessions elsewhere; the
/// crate's conformance suite (`tests/common/conformance.rs`) states the
/// contract every store meets.
///
/// Records expire on their own after the `ttl` each write passes (the idle
/// timeout, never past the absolute end). The per-user index
/// ([`sessions`](Self::sessions)) is the store's to keep: a record that
/// signs in joins its user's index, and entries whose record is gone or
/// belongs to someone else are pruned when the index is read.
pub trait Store: fmt::Debug + Send + Sync + 'static {
    /// The record of `id`, if it exists.
    fn load<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, Option<Record>>;

    /// Stores a new record, unless `id` is taken (`Ok(false)`).
    fn create<'a>(
        &'a self,
        id: &'a RecordId,
        record: &'a Record,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Applies `update` atomically and sets the record's time to live to
    /// `ttl`; `Ok(false)` when the record is gone, has ended, or does not
    /// accept the update's secret (nothing is written then).
    fn update<'a>(
        &'a self,
        id: &'a RecordId,
        update: &'a Update,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Deletes a record and its index entry; `Ok(false)` if it was gone.
    fn delete<'a>(&'a self, id: &'a RecordId) -> StoreFuture<'a, bool>;

    /// The live sessions of `user` (any order), pruning dead index entries.
    fn sessions<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<SessionInfo>>;

    /// Checks that the store answers.
    fn ping(&self) -> StoreFuture<'_, ()>;

    /// The longest one [`load`](Self::load) can take when the store bounds
    /// it itself (a client's command timeout), `None` (the default) when it
    /// does not. When it is within the layer's store timeout (read when the
    /// layer is built), the layer sets no timer of its own around a load; a
    /// bound that is not kept lets a load wait longer than the layer's
    /// timeout.
    fn load_bound(&self) -> Option<Duration> {
        None
    }
}
