//! After the handler: what to write back, and the cookie to send.

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Response, StatusCode};
use strata_core::Problem;

use crate::config::Settings;
use crate::id::{RecordId, SessionId};
use crate::observe::Event;
use crate::session::{Origin, Session, State};
use crate::store::{Record, Rotation, SignIn, Update};

/// What a finished request writes back.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    delete: Option<RecordId>,
    write: Option<Write>,
}

#[derive(Debug)]
enum Write {
    Create {
        id: SessionId,
        record: Box<Record>,
    },
    Update {
        record: RecordId,
        update: Box<Update>,
        expires_ms: u64,
        rotated: Option<SessionId>,
        touch_only: bool,
    },
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.delete.is_none() && self.write.is_none()
    }

    /// Takes the session's pending changes.
    pub(crate) fn take(session: &Session, settings: &Settings) -> Self {
        let mut state = session.lock();
        let now = settings.now.ms();
        let mut plan = Plan {
            delete: state.deleted.take(),
            write: None,
        };
        let changes = std::mem::take(&mut state.changes);
        match state.origin {
            Origin::Unavailable => {}
            Origin::New => {
                let data: std::collections::HashMap<String, String> = changes
                    .into_iter()
                    .filter_map(|(key, value)| Some((key, value?)))
                    .collect();
                if state.sign_in || !data.is_empty() {
                    let id = SessionId::generate();
                    let (user_agent, ip) = client_of(&state);
                    let record = Record {
                        secret: id.secret_hash(),
                        previous: None,
                        user: if state.sign_in {
                            state.user.clone()
                        } else {
                            None
                        },
                        created_ms: now,
                        seen_ms: now,
                        expires_ms: now.saturating_add(settings.absolute_ms),
                        user_agent,
                        ip,
                        data,
                    };
                    plan.write = Some(Write::Create {
                        id,
                        record: Box::new(record),
                    });
                }
            }
            Origin::Loaded {
                id,
                seen_ms,
                expires_ms,
            } => {
                let dirty = !changes.is_empty() || state.rotate || state.sign_in;
                if dirty || now >= seen_ms.saturating_add(settings.touch_ms) {
                    let rotated = state.rotate.then(|| SessionId::for_record(id.record));
                    let sign_in = state.sign_in.then(|| {
                        let (user_agent, ip) = client_of(&state);
                        SignIn {
                            user: state.user.clone().unwrap_or_default(),
                            user_agent,
                            ip,
                        }
                    });
                    let mut set = Vec::new();
                    let mut remove = Vec::new();
                    for (key, value) in changes {
                        match value {
                            Some(value) => set.push((key, value)),
                            None => remove.push(key),
                        }
                    }
                    let update = Update {
                        secret: id.secret_hash(),
                        now_ms: now,
                        rotate: rotated.map(|new| Rotation {
                            secret: new.secret_hash(),
                            grace_until_ms: now.saturating_add(settings.grace_ms),
                        }),
                        sign_in,
                        set,
                        remove,
                        seen_ms: now,
                    };
                    plan.write = Some(Write::Update {
                        record: id.record,
                        update: Box::new(update),
                        expires_ms,
                        rotated,
                        touch_only: !dirty,
                    });
                }
            }
        }
        state.sign_in = false;
        state.rotate = false;
        plan
    }

    /// Runs the plan and adds its cookie to `response`. A write that fails
    /// turns the response into `503` problem+json (the handler's work would
    /// otherwise be reported done and lost); a failed touch is only
    /// counted.
    pub(crate) async fn run<B: From<Bytes>>(
        self,
        settings: &Settings,
        mut response: Response<B>,
    ) -> Response<B> {
        let observer = &settings.observer;
        let timeout = settings.store_timeout;
        let store = &*settings.store;
        let mut cookie = None;
        if let Some(record) = self.delete {
            match observer
                .call("delete", timeout, store.delete(&record))
                .await
            {
                Ok(_) => {
                    observer.event(Event::SignedOut);
                    cookie = Some(settings.cookie.remove());
                }
                Err(_) => return unavailable(),
            }
        }
        let now = settings.now.ms();
        match self.write {
            None => {}
            Some(Write::Create { id, record }) => {
                let ttl = settings.ttl(now, record.expires_ms);
                match observer
                    .call("create", timeout, store.create(&id.record, &record, ttl))
                    .await
                {
                    Ok(true) => {
                        observer.event(Event::Created);
                        let max_age = record.expires_ms.saturating_sub(now) / 1000;
                        cookie = Some(settings.cookie.set(&id, max_age));
                    }
                    // A 128-bit collision: refuse rather than share a record.
                    Ok(false) | Err(_) => return unavailable(),
                }
            }
            Some(Write::Update {
                record,
                update,
                expires_ms,
                rotated,
                touch_only,
            }) => {
                let ttl = settings.ttl(now, expires_ms);
                match observer
                    .call("update", timeout, store.update(&record, &update, ttl))
                    .await
                {
                    Ok(true) => {
                        if let Some(new) = rotated {
                            observer.event(Event::Rotated);
                            cookie = Some(
                                settings
                                    .cookie
                                    .set(&new, expires_ms.saturating_sub(now) / 1000),
                            );
                        }
                    }
                    Ok(false) => {
                        // Deleted, revoked or rotated away meanwhile: never
                        // written back; the browser forgets the cookie.
                        observer.event(Event::WriteRefused);
                        cookie = Some(settings.cookie.remove());
                    }
                    Err(_) if touch_only => {}
                    Err(_) => return unavailable(),
                }
            }
        }
        if let Some(cookie) = cookie {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
        response
    }
}

fn client_of(state: &State) -> (Option<String>, Option<String>) {
    let user_agent = state
        .user_agent
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    (user_agent, state.ip.map(|ip| ip.to_string()))
}

/// The `503` problem of a request whose session the store could not serve.
pub(crate) fn unavailable<B: From<Bytes>>() -> Response<B> {
    let mut response = Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .title("Session store unavailable")
        .detail("The session could not be read or saved. Try again shortly.")
        .into_response();
    response
        .extensions_mut()
        .insert(crate::Rejection::StoreUnavailable);
    response
}
