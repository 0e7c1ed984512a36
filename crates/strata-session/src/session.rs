//! [`Session`]: the handle a request's handlers read and change.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::id::{RecordId, SessionId};
use crate::store::Record;

/// A session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store could not be reached when the request came in, so this
    /// session cannot be read or changed.
    #[error("the session store is unavailable")]
    Unavailable,
    /// A value could not be serialised to JSON.
    #[error("cannot serialise session value {key:?}: {source}")]
    Serialize {
        /// The value's name.
        key: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// A stored value does not deserialise into the requested type.
    #[error("cannot deserialise session value {key:?}: {source}")]
    Deserialize {
        /// The value's name.
        key: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
}

/// The request's session, in the request extensions (and an axum
/// extractor with feature `axum`).
///
/// Reads and writes are synchronous and local: the layer loaded the record
/// (one store read) before the handler ran, and writes back only what
/// changed after it returned: nothing for a session that only read, a
/// last-seen touch at most once per touch interval, the changed values
/// only otherwise. A new session that holds nothing is never stored and
/// sets no cookie. Clones share one state; changes made after the
/// response has been produced are not saved.
#[derive(Clone)]
pub struct Session {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) origin: Origin,
    pub(crate) data: HashMap<String, String>,
    pub(crate) changes: HashMap<String, Option<String>>,
    pub(crate) user: Option<String>,
    pub(crate) sign_in: bool,
    pub(crate) rotate: bool,
    /// A record this request deleted (sign-out), then maybe started anew.
    pub(crate) deleted: Option<RecordId>,
    pub(crate) user_agent: Option<HeaderValue>,
    pub(crate) ip: Option<IpAddr>,
}

#[derive(Debug)]
pub(crate) enum Origin {
    /// No valid session came with the request.
    New,
    /// A record loaded for the presented id.
    Loaded {
        id: SessionId,
        seen_ms: u64,
        expires_ms: u64,
    },
    /// The store failed: read as anonymous, refuse writes.
    Unavailable,
}

impl Session {
    pub(crate) fn new(origin: Origin, user_agent: Option<HeaderValue>, ip: Option<IpAddr>) -> Self {
        Self::from_state(State {
            origin,
            data: HashMap::new(),
            changes: HashMap::new(),
            user: None,
            sign_in: false,
            rotate: false,
            deleted: None,
            user_agent,
            ip,
        })
    }

    pub(crate) fn loaded(
        id: SessionId,
        record: Record,
        user_agent: Option<HeaderValue>,
        ip: Option<IpAddr>,
    ) -> Self {
        let session = Self::new(
            Origin::Loaded {
                id,
                seen_ms: record.seen_ms,
                expires_ms: record.expires_ms,
            },
            user_agent,
            ip,
        );
        {
            let mut state = session.lock();
            state.data = record.data;
            state.user = record.user;
        }
        session
    }

    fn from_state(state: State) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn writable(&self) -> Result<MutexGuard<'_, State>, SessionError> {
        let state = self.lock();
        if matches!(state.origin, Origin::Unavailable) {
            return Err(SessionError::Unavailable);
        }
        Ok(state)
    }

    /// The value stored under `key`, deserialised.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let state = self.lock();
        let text = match state.changes.get(key) {
            Some(change) => change.as_deref(),
            None => state.data.get(key).map(String::as_str),
        };
        text.map(|text| {
            serde_json::from_str(text).map_err(|source| SessionError::Deserialize {
                key: key.to_owned(),
                source,
            })
        })
        .transpose()
    }

    /// Stores `value` under `key` (as JSON). Only changed keys are written
    /// back, so concurrent requests changing different keys both persist.
    pub fn insert(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let text = serde_json::to_string(&value).map_err(|source| SessionError::Serialize {
            key: key.clone(),
            source,
        })?;
        let mut state = self.writable()?;
        if state.data.get(&key) == Some(&text) {
            state.changes.remove(&key);
        } else {
            state.changes.insert(key, Some(text));
        }
        Ok(())
    }

    /// Removes the value under `key`; whether there was one.
    pub fn remove(&self, key: &str) -> Result<bool, SessionError> {
        let mut state = self.writable()?;
        let existed = match state.changes.get(key) {
            Some(change) => change.is_some(),
            None => state.data.contains_key(key),
        };
        if state.data.contains_key(key) {
            state.changes.insert(key.to_owned(), None);
        } else {
            state.changes.remove(key);
        }
        Ok(existed)
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<String> {
        self.lock().user.clone()
    }

    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.lock().user.is_some()
    }

    /// Signs `user` in: records the principal and rotates the id (a new
    /// cookie; the old id keeps working for the rotation grace window, then
    /// stops), keeping the session's data. This is the session-fixation
    /// defence: an id planted before sign-in never becomes an
    /// authenticated one. The session joins the user's index.
    pub fn sign_in(&self, user: impl Into<String>) -> Result<(), SessionError> {
        let mut state = self.writable()?;
        state.user = Some(user.into());
        state.sign_in = true;
        state.rotate = true;
        Ok(())
    }

    /// Rotates the id, keeping data and user.
    pub fn cycle_id(&self) -> Result<(), SessionError> {
        self.writable()?.rotate = true;
        Ok(())
    }

    /// Ends the session: the record is deleted and a removal cookie (same
    /// `Path` and `Domain`) is sent. Values inserted afterwards start a new
    /// session with a new id.
    pub fn sign_out(&self) {
        let mut state = self.lock();
        if let Origin::Loaded { id, .. } = state.origin {
            state.deleted = Some(id.record);
        }
        if !matches!(state.origin, Origin::Unavailable) {
            state.origin = Origin::New;
        }
        state.data.clear();
        state.changes.clear();
        state.user = None;
        state.sign_in = false;
        state.rotate = false;
    }

    /// The same as [`sign_out`](Self::sign_out).
    pub fn delete(&self) {
        self.sign_out();
    }

    /// The session's record id (not a credential), when it was loaded from
    /// the store: what [`SessionAdmin`](crate::SessionAdmin) lists and
    /// revokes by.
    pub fn record_id(&self) -> Option<RecordId> {
        match self.lock().origin {
            Origin::Loaded { id, .. } => Some(id.record),
            _ => None,
        }
    }

    /// Whether the store failed when the request came in (see
    /// [`OnStoreError::Anonymous`](crate::OnStoreError::Anonymous)).
    pub fn is_unavailable(&self) -> bool {
        matches!(self.lock().origin, Origin::Unavailable)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Session")
            .field("record", &self.record_id_of(&state))
            .field("user", &state.user)
            .field("unavailable", &matches!(state.origin, Origin::Unavailable))
            .finish_non_exhaustive()
    }
}

impl Session {
    fn record_id_of(&self, state: &State) -> Option<RecordId> {
        match state.origin {
            Origin::Loaded { id, .. } => Some(id.record),
            _ => None,
        }
    }
}
