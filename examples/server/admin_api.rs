//! The operators' endpoints of the admin listener, JSON in and out, behind
//! its token: what `strata --service` calls. Each acts through the
//! application's own handles, so it also reaches memory stores.
//!
//! | route | does |
//! |---|---|
//! | `GET /admin/cache/stats` | the cache store's counts |
//! | `POST /admin/cache/purge` | `{"tag"|"url", "soft", "dry_run"}` |
//! | `GET /admin/sessions/{user}` | the user's live sessions |
//! | `POST /admin/sessions/{user}/revoke` | `{"id"?, "dry_run"}` (every session without `id`) |
//! | `GET /admin/ratelimit/{key}?policy=P` | the key's usage under each policy (or `P`) |
//! | `POST /admin/ratelimit/{key}/reset` | `{"policy"?, "dry_run"}` |

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use strata::cache::{CacheHandle, CacheKey};
use strata::core::Problem;
use strata::core::redis::fred::clients::Pool;
use strata::rate_limit::{Key, RateLimitAdmin, RedisStore};
use strata::session::{RecordId, SessionAdmin};

use crate::limits::{self, Stores};

/// What the endpoints act on.
#[derive(Debug, Clone)]
pub(crate) struct Handles {
    pub(crate) cache: CacheHandle,
    pub(crate) sessions: SessionAdmin,
    pub(crate) limits: Stores,
    pub(crate) redis: Option<Pool>,
}

pub(crate) fn router(handles: Handles) -> Router {
    Router::new()
        .route("/admin/cache/stats", get(cache_stats))
        .route("/admin/cache/purge", post(cache_purge))
        .route("/admin/sessions/{user}", get(sessions))
        .route("/admin/sessions/{user}/revoke", post(revoke))
        .route("/admin/ratelimit/{key}", get(rate_limit))
        .route("/admin/ratelimit/{key}/reset", post(reset))
        .with_state(handles)
}

fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    Problem::new(status).detail(detail.into()).into_response()
}

fn store_failed(error: impl std::fmt::Display) -> Response {
    problem(StatusCode::SERVICE_UNAVAILABLE, format!("store: {error}"))
}

fn done(action: &str, target: String, count: u64, dry_run: bool) -> Response {
    tracing::info!(action, %target, count, dry_run, "admin action");
    let target = serde_json::Value::String(target);
    Json(json!({"action": action, "target": target, "count": count, "dry_run": dry_run}))
        .into_response()
}

async fn cache_stats(State(h): State<Handles>) -> Response {
    match h.cache.stats(&|_| ()).await {
        Ok(s) => Json(json!({"resources": s.resources, "entries": s.entries,
            "tags": s.tags, "bytes": s.bytes}))
        .into_response(),
        Err(error) => store_failed(error),
    }
}

#[derive(Debug, Deserialize)]
struct Purge {
    tag: Option<String>,
    url: Option<String>,
    #[serde(default)]
    soft: bool,
    #[serde(default)]
    dry_run: bool,
}

async fn cache_purge(State(h): State<Handles>, Json(p): Json<Purge>) -> Response {
    let action = if p.soft {
        "cache soft-purge"
    } else {
        "cache purge"
    };
    let result = match (&p.tag, &p.url) {
        (Some(tag), None) => match h.cache.count_tag(tag).await {
            Ok(0) => {
                return problem(
                    StatusCode::NOT_FOUND,
                    format!("unknown tag {tag:?}: no cached resource carries it"),
                );
            }
            Ok(_) if !p.dry_run => h.cache.purge_tag_progress(tag, p.soft, &|_| ()).await,
            counted => counted,
        }
        .map(|n| (format!("tag {tag}"), n)),
        (None, Some(url)) => {
            let Some(key) = CacheKey::from_url(url) else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    format!("bad URL {url:?}: give an absolute URL"),
                );
            };
            let counted = h.cache.count(&key).await;
            match counted {
                Ok(n) if !p.dry_run => {
                    let purged = if p.soft {
                        h.cache.soft_purge(&key).await
                    } else {
                        h.cache.purge(&key).await
                    };
                    purged.map(|()| n)
                }
                other => other,
            }
            .map(|n| (format!("url {url}"), n))
        }
        _ => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "give one of `tag` or `url`",
            );
        }
    };
    match result {
        Ok((target, n)) => done(action, target, n, p.dry_run),
        Err(error) => store_failed(error),
    }
}

async fn sessions(State(h): State<Handles>, Path(user): Path<String>) -> Response {
    match h.sessions.list(&user).await {
        Ok(list) => Json(json!({"user": user, "sessions": list})).into_response(),
        Err(error) => store_failed(error),
    }
}

#[derive(Debug, Deserialize)]
struct Revoke {
    id: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

async fn revoke(
    State(h): State<Handles>,
    Path(user): Path<String>,
    Json(r): Json<Revoke>,
) -> Response {
    let live = match h.sessions.list(&user).await {
        Ok(live) => live,
        Err(error) => return store_failed(error),
    };
    let Some(text) = r.id else {
        let n = if r.dry_run {
            Ok(live.len())
        } else {
            h.sessions.revoke_all(&user).await
        };
        return match n {
            Ok(n) => done(
                "session revoke",
                format!("every session of user {user}"),
                n as u64,
                r.dry_run,
            ),
            Err(error) => store_failed(error),
        };
    };
    let Some(id) = RecordId::parse(&text).filter(|id| live.iter().any(|s| s.id == *id)) else {
        return problem(
            StatusCode::NOT_FOUND,
            format!("unknown session {text} of user {user:?}"),
        );
    };
    let revoked = if r.dry_run {
        Ok(true)
    } else {
        h.sessions.revoke(&user, &id).await
    };
    match revoked {
        Ok(n) => done(
            "session revoke",
            format!("session {id} of user {user}"),
            u64::from(n),
            r.dry_run,
        ),
        Err(error) => store_failed(error),
    }
}

/// `ip:<address>`, `global`, or a text key (as `Key` displays them).
fn key(text: &str) -> Key {
    if text == "global" {
        return Key::global();
    }
    match text.strip_prefix("ip:").and_then(|a| a.parse().ok()) {
        Some(ip) => Key::ip(ip),
        None => Key::new(text),
    }
}

/// The store holding `login`'s (or the tiers') state: Redis when the
/// service uses it, else the layer's memory store.
enum Limits {
    Memory(RateLimitAdmin<strata::rate_limit::MemoryStore>),
    Redis(RateLimitAdmin<RedisStore>),
}

fn limits_for(h: &Handles, login: bool) -> Limits {
    match &h.redis {
        Some(pool) => {
            let prefix = if login {
                "strata:rl:login:"
            } else {
                "strata:rl:"
            };
            Limits::Redis(RateLimitAdmin::new(
                RedisStore::new(pool.clone()).prefix(prefix),
            ))
        }
        None if login => Limits::Memory(RateLimitAdmin::new(h.limits.login.clone())),
        None => Limits::Memory(RateLimitAdmin::new(h.limits.tiers.clone())),
    }
}

#[derive(Debug, Deserialize)]
struct Which {
    policy: Option<String>,
}

async fn rate_limit(
    State(h): State<Handles>,
    Path(text): Path<String>,
    Query(q): Query<Which>,
) -> Response {
    let k = key(&text);
    let mut shown = Vec::new();
    for (policy, login) in limits::policies() {
        if q.policy.as_deref().is_some_and(|p| p != policy.name()) {
            continue;
        }
        let usage = match limits_for(&h, login) {
            Limits::Memory(admin) => admin.show(&k, &policy).await,
            Limits::Redis(admin) => admin.show(&k, &policy).await,
        };
        match usage {
            Ok(u) => shown.push(
                json!({"policy": u.policy, "limit": u.limit, "remaining": u.remaining,
                "full_in_ms": u.full_in.as_millis() as u64,
                "retry_after_s": u.retry_after.as_secs_f64().ceil() as u64}),
            ),
            Err(error) => return store_failed(error),
        }
    }
    if shown.is_empty() {
        return problem(StatusCode::NOT_FOUND, "no such policy");
    }
    Json(json!({"key": text, "policies": shown})).into_response()
}

#[derive(Debug, Deserialize)]
struct Reset {
    policy: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

async fn reset(
    State(h): State<Handles>,
    Path(text): Path<String>,
    Json(r): Json<Reset>,
) -> Response {
    let k = key(&text);
    let target = match &r.policy {
        Some(p) => format!("key {text} policy {p}"),
        None => format!("key {text}, every policy"),
    };
    let mut removed = 0;
    for login in [false, true] {
        let policy = r.policy.as_deref();
        let n = match (limits_for(&h, login), r.dry_run) {
            (Limits::Memory(admin), true) => admin.states(&k, policy).await,
            (Limits::Memory(admin), false) => admin.reset(&k, policy).await,
            (Limits::Redis(admin), true) => admin.states(&k, policy).await,
            (Limits::Redis(admin), false) => admin.reset(&k, policy).await,
        };
        match n {
            Ok(n) => removed += n,
            Err(error) => return store_failed(error),
        }
    }
    done("ratelimit reset", target, removed, r.dry_run)
}
