//! An axum app exercising the session, and request helpers.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::{get, post};
use http::{HeaderMap, Request, Response, StatusCode, header};
use strata_session::{Session, SessionLayer};
use tower::ServiceExt as _;

pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route(
            "/read",
            get(|session: Session| async move {
                let value: Option<String> = session.get("v").unwrap();
                format!(
                    "{}|{}",
                    session.user().unwrap_or_default(),
                    value.unwrap_or_default()
                )
            }),
        )
        .route("/public", get(|| async { "public" }))
        .route(
            "/optional",
            get(|session: Option<Session>| async move {
                if session.is_some() {
                    "with session"
                } else {
                    "without session"
                }
            }),
        )
        .route(
            "/set/{key}/{value}",
            post(
                |session: Session, Path((key, value)): Path<(String, String)>| async move {
                    session.insert(key, value).unwrap();
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/get/{key}",
            get(|session: Session, Path(key): Path<String>| async move {
                session.get::<String>(&key).unwrap().unwrap_or_default()
            }),
        )
        .route(
            "/noop",
            post(|session: Session| async move {
                session.insert("tmp", 1).unwrap();
                session.remove("tmp").unwrap();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/login/{user}",
            post(|session: Session, Path(user): Path<String>| async move {
                session.sign_in(user).unwrap();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/cycle",
            post(|session: Session| async move {
                session.cycle_id().unwrap();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/logout",
            post(|session: Session| async move {
                session.sign_out();
                StatusCode::NO_CONTENT
            }),
        )
        .layer(layer)
}

pub async fn send(app: &Router, method: &str, uri: &str, cookie: Option<&str>) -> Response<Body> {
    send_with(app, method, uri, cookie, &[]).await
}

pub async fn send_with(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "app.test");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// `name=value` of the response's `Set-Cookie`, if any.
pub fn cookie_of(response: &Response<Body>) -> Option<String> {
    let set = set_cookie(response.headers())?;
    Some(set.split(';').next().unwrap().to_owned())
}

pub fn set_cookie(headers: &HeaderMap) -> Option<String> {
    let mut all = headers.get_all(header::SET_COOKIE).iter();
    let first = all.next()?.to_str().unwrap().to_owned();
    assert!(all.next().is_none(), "one Set-Cookie at most");
    Some(first)
}

pub async fn text(response: Response<Body>) -> String {
    strata_testkit::body_string(response.into_body()).await
}

/// [`app`] over `layer`, and the cookie of a session holding `v = 1`,
/// checked readable.
pub async fn app_with_session(layer: SessionLayer) -> (Router, String) {
    let app = app(layer);
    let cookie = cookie_of(&send(&app, "POST", "/set/v/1", None).await).expect("a cookie");
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&cookie)).await).await,
        "|1"
    );
    (app, cookie)
}
