//! `POST /api/login`: body `{"username": "..."}`, limited to 5 requests per
//! minute per client IP (see [`crate::limits::login`]).
//!
//! The limit runs before this handler, so every request that reaches the
//! route counts against it, malformed ones included: a client cannot probe
//! the endpoint for free by sending junk.
//!
//! A well-formed request signs the user in: a new session id (the one the
//! request came with, if any, stops working after a short grace window),
//! the user and role stored in the session, `200` with the user.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use strata::core::Problem;
use strata::session::Session;

/// The most characters a username may have.
pub(crate) const MAX_USERNAME: usize = 64;

/// The body of `POST /api/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    username: String,
}

/// 1 to [`MAX_USERNAME`] characters, each an ASCII letter or digit, `_`,
/// `-` or `.`.
fn valid_username(username: &str) -> bool {
    (1..=MAX_USERNAME).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

pub(crate) async fn login(session: Session, body: Result<Json<Login>, JsonRejection>) -> Response {
    let login = match body {
        Ok(Json(login)) => login,
        Err(rejection) => return crate::problems::json_rejection(&rejection),
    };
    if !valid_username(&login.username) {
        return Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .detail(
                "username must be 1 to 64 characters, each an ASCII letter or digit, `_`, `-` or `.`",
            )
            .into_response();
    }
    crate::account::sign_in(&session, &login.username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_short_ascii_words() {
        for good in ["a", "alice", "Bob_2", "first.last", "x-y", &"a".repeat(64)] {
            assert!(valid_username(good), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "alice bob",
            "ünïcode",
            "a/b",
            "a@b",
            &"a".repeat(65),
        ] {
            assert!(!valid_username(bad), "{bad:?}");
        }
    }
}
