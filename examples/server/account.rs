//! Signing in and out, the signed-in user, their sessions, and an admin
//! route: the session layer at work.
//!
//! Routes that need a session take the `Session` extractor, so while the
//! session store is unreachable they answer `503` problem+json; the other
//! routes keep serving.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use strata::core::Problem;
use strata::session::{Session, SessionAdmin, SessionInfo};

use crate::items::Catalogue;

/// The role `admin` signs in with; everyone else is a `user`.
pub(crate) const ADMIN: &str = "admin";

/// Starts a signed-in session for `username` (already validated).
pub(crate) fn sign_in(session: &Session, username: &str) -> Response {
    let role = if username == ADMIN { "admin" } else { "user" };
    if session.sign_in(username).is_err() || session.insert("role", role).is_err() {
        return crate::problems::unavailable();
    }
    Json(json!({ "user": username, "role": role })).into_response()
}

fn signed_out() -> Response {
    Problem::new(StatusCode::UNAUTHORIZED)
        .detail("sign in first: POST /api/login")
        .into_response()
}

/// The signed-in user and role (`None`: answer [`signed_out`]).
fn user_of(session: &Session) -> Option<(String, String)> {
    let user = session.user()?;
    let role = session
        .get::<String>("role")
        .ok()
        .flatten()
        .unwrap_or_else(|| "user".to_owned());
    Some((user, role))
}

/// `GET /api/me`.
pub(crate) async fn me(session: Session) -> Response {
    match user_of(&session) {
        Some((user, role)) => Json(json!({ "user": user, "role": role })).into_response(),
        None => signed_out(),
    }
}

/// `POST /api/logout`: 204 and a removal cookie.
pub(crate) async fn logout(session: Session) -> StatusCode {
    session.sign_out();
    StatusCode::NO_CONTENT
}

fn listed(info: &SessionInfo, current: Option<strata::session::RecordId>) -> serde_json::Value {
    json!({
        "id": info.id.to_string(),
        "current": Some(info.id) == current,
        "created_ms": info.created_ms,
        "last_seen_ms": info.seen_ms,
        "expires_ms": info.expires_ms,
        "user_agent": info.user_agent,
        "ip": info.ip,
    })
}

/// `GET /api/me/sessions`: the user's live sessions.
pub(crate) async fn sessions(State(admin): State<SessionAdmin>, session: Session) -> Response {
    let Some((user, _)) = user_of(&session) else {
        return signed_out();
    };
    match admin.list(&user).await {
        Ok(list) => {
            let current = session.record_id();
            Json(
                list.iter()
                    .map(|info| listed(info, current))
                    .collect::<Vec<_>>(),
            )
            .into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "listing sessions failed");
            crate::problems::unavailable()
        }
    }
}

/// `DELETE /api/me/sessions`: revokes every other session of the user.
pub(crate) async fn revoke_others(State(admin): State<SessionAdmin>, session: Session) -> Response {
    let Some((user, _)) = user_of(&session) else {
        return signed_out();
    };
    let Some(current) = session.record_id() else {
        // Signed in during this very request: there is no other session yet
        // that this one could be told apart from.
        return Json(json!({ "revoked": 0 })).into_response();
    };
    match admin.revoke_all_except(&user, &current).await {
        Ok(revoked) => Json(json!({ "revoked": revoked })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "revoking sessions failed");
            crate::problems::unavailable()
        }
    }
}

/// `GET /api/admin/stats`: 401 signed out, 403 for non-admins.
pub(crate) async fn admin_stats(State(catalogue): State<Catalogue>, session: Session) -> Response {
    match user_of(&session) {
        None => signed_out(),
        Some((_, role)) if role != "admin" => Problem::new(StatusCode::FORBIDDEN)
            .detail("this route is for the admin role")
            .into_response(),
        Some((user, _)) => Json(json!({ "user": user, "items": catalogue.len() })).into_response(),
    }
}
