//! [`SessionAdmin`]: list and revoke sessions by user.

use std::fmt;
use std::sync::Arc;

use crate::config::Settings;
use crate::id::RecordId;
use crate::observe::Event;
use crate::store::{SessionInfo, StoreError};

/// Lists and revokes sessions by user; from
/// [`SessionBuilder::pair`](crate::SessionBuilder::pair), or
/// [`new`](Self::new) for a store alone (an operators' tool). Cloning
/// shares it.
///
/// A revocation deletes the record, so it takes effect at once on every
/// instance that shares the store: the next request carrying that cookie
/// finds nothing and goes on as anonymous. Every call is bounded by the
/// layer's store timeout.
#[derive(Clone)]
pub struct SessionAdmin {
    settings: Arc<Settings>,
}

impl SessionAdmin {
    pub(crate) fn from_settings(settings: Arc<Settings>) -> Self {
        Self { settings }
    }

    /// An admin handle for `store` without a layer, for a process that
    /// manages the sessions a service keeps (the `strata` tool): the
    /// layer's default store timeout ([`DEFAULT_STORE_TIMEOUT`](crate::DEFAULT_STORE_TIMEOUT))
    /// and the system clock.
    ///
    /// Not knowing the service's idle timeout, it lists every record the
    /// store still holds (records expire on their own after the idle
    /// timeout) whose absolute lifetime has not ended.
    ///
    /// ```no_run
    /// # #[cfg(feature = "redis")]
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use strata_core::redis::RedisPoolBuilder;
    /// use strata_session::{RedisStore, SessionAdmin};
    ///
    /// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
    /// let admin = SessionAdmin::new(RedisStore::new(pool));
    /// let revoked = admin.revoke_all("user-42").await?;
    /// println!("{revoked} sessions revoked");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(store: impl crate::store::Store) -> Self {
        Self::from_settings(Arc::new(Settings::for_admin(store)))
    }

    /// The live sessions of `user`, oldest first. Index entries of ended
    /// sessions are pruned.
    pub async fn list(&self, user: &str) -> Result<Vec<SessionInfo>, StoreError> {
        let settings = &self.settings;
        let mut sessions = settings
            .observer
            .call(
                "list",
                settings.store_timeout,
                settings.store.sessions(user),
            )
            .await?;
        let now = settings.now.ms();
        sessions.retain(|s| now < s.expires_ms && now < s.seen_ms.saturating_add(settings.idle_ms));
        sessions.sort_by_key(|s| (s.created_ms, s.id));
        Ok(sessions)
    }

    /// Revokes one of `user`'s sessions; `Ok(false)` if `user` has no live
    /// session `id`.
    pub async fn revoke(&self, user: &str, id: &RecordId) -> Result<bool, StoreError> {
        let owned = self.list(user).await?.iter().any(|s| s.id == *id);
        Ok(owned && self.delete(id).await?)
    }

    /// Revokes every session of `user`; how many there were.
    pub async fn revoke_all(&self, user: &str) -> Result<usize, StoreError> {
        self.revoke_where(user, |_| true).await
    }

    /// Revokes every session of `user` except `keep` (the current one, for
    /// "sign out everywhere else"); how many were revoked.
    pub async fn revoke_all_except(
        &self,
        user: &str,
        keep: &RecordId,
    ) -> Result<usize, StoreError> {
        self.revoke_where(user, |id| id != keep).await
    }

    /// Checks that the store answers within the timeout (for a health
    /// check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let settings = &self.settings;
        settings
            .observer
            .call("ping", settings.store_timeout, settings.store.ping())
            .await
    }

    async fn revoke_where(
        &self,
        user: &str,
        revoke: impl Fn(&RecordId) -> bool,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for session in self.list(user).await? {
            if revoke(&session.id) && self.delete(&session.id).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn delete(&self, id: &RecordId) -> Result<bool, StoreError> {
        let settings = &self.settings;
        let deleted = settings
            .observer
            .call("delete", settings.store_timeout, settings.store.delete(id))
            .await?;
        if deleted {
            settings.observer.event(Event::Revoked);
        }
        Ok(deleted)
    }
}

impl fmt::Debug for SessionAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAdmin")
            .field("store", &self.settings.store)
            .finish()
    }
}
