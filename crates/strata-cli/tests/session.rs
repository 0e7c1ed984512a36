//! `strata session` end to end on Redis and a Redis Cluster: a service's
//! session layer signs a user in, the CLI lists and revokes, the layer
//! finds the sessions gone.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{audit, pool, strata};
use http::{Request, Response, header};
use http_body_util::Full;
use strata_session::{RedisStore, Session, SessionAdmin, SessionLayer};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};
use tower::{Layer as _, ServiceExt as _, service_fn};

/// One request through the service's session layer: signs `user` in when
/// given, answers the signed-in user; returns it and the cookie.
async fn request(
    layer: &SessionLayer,
    cookie: Option<&str>,
    user: Option<&str>,
) -> (String, Option<String>) {
    let user = user.map(str::to_owned);
    let service = layer.layer(service_fn(move |req: Request<Full<Bytes>>| {
        let user = user.clone();
        async move {
            let session = req.extensions().get::<Session>().cloned().unwrap();
            if let Some(user) = user {
                session.sign_in(user).unwrap();
            }
            let body = session.user().unwrap_or_default();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    }));
    let mut req = Request::post("https://app.example/").header(header::HOST, "app.example");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let response = service
        .oneshot(req.body(Full::default()).unwrap())
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (String::from_utf8(body.to_vec()).unwrap(), cookie)
}

async fn list_and_revoke(url: &str) {
    let prefix = unique_prefix("cli-session");
    let stream = format!("{prefix}audit");
    let pool = pool(url).await;
    let (layer, _) = SessionLayer::builder(RedisStore::new(pool.clone()).prefix(prefix.as_str()))
        .pair()
        .unwrap();
    let user = format!("alice-{prefix}");
    let (_, laptop) = request(&layer, None, Some(&user)).await;
    let (_, phone) = request(&layer, None, Some(&user)).await;
    let (laptop, phone) = (laptop.unwrap(), phone.unwrap());
    assert_eq!(request(&layer, Some(&laptop), None).await.0, user);
    let env = [
        ("STRATA_SESSION_PREFIX", prefix.as_str()),
        ("STRATA_AUDIT_STREAM", stream.as_str()),
    ];

    let listed = strata(url, &["session", "list", &user, "--json"], &env).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let sessions = listed.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{listed:?}");
    let table = strata(url, &["session", "list", &user], &env).await;
    assert_eq!(
        table.stdout.lines().count(),
        3,
        "a header and two rows: {table:?}"
    );

    let first = sessions[0]["id"].as_str().unwrap().to_owned();
    let dry = strata(
        url,
        &[
            "session",
            "revoke",
            &user,
            "--id",
            &first,
            "--dry-run",
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(
        (dry.code, dry.json()["count"].as_u64()),
        (0, Some(1)),
        "{dry:?}"
    );
    let admin = SessionAdmin::new(RedisStore::new(pool.clone()).prefix(prefix.as_str()));
    assert_eq!(
        admin.list(&user).await.unwrap().len(),
        2,
        "a dry run changes nothing"
    );

    let one = strata(
        url,
        &["session", "revoke", &user, "--id", &first, "--yes"],
        &env,
    )
    .await;
    assert_eq!(one.code, 0, "{one:?}");
    assert_eq!(admin.list(&user).await.unwrap().len(), 1);
    let again = strata(
        url,
        &["session", "revoke", &user, "--id", &first, "--yes"],
        &env,
    )
    .await;
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("unknown session"), "{again:?}");

    let all = strata(
        url,
        &["session", "revoke", &user, "--all", "--yes", "--json"],
        &env,
    )
    .await;
    assert_eq!(
        (all.code, all.json()["count"].as_u64()),
        (0, Some(1)),
        "{all:?}"
    );
    assert_eq!(
        request(&layer, Some(&laptop), None).await.0,
        "",
        "signed out"
    );
    assert_eq!(
        request(&layer, Some(&phone), None).await.0,
        "",
        "signed out"
    );
    let entries = audit(&pool, &stream).await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(
        entries[2]["target"],
        format!("every session of user {user}")
    );

    let bad = strata(
        url,
        &["session", "revoke", &user, "--id", "nope", "--yes"],
        &env,
    )
    .await;
    assert_eq!(bad.code, 64, "{bad:?}");
    let neither = strata(url, &["session", "revoke", &user], &env).await;
    assert_eq!(neither.code, 64, "--all or --id is required: {neither:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_revoke_on_redis() {
    list_and_revoke(shared().url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_revoke_on_a_cluster() {
    list_and_revoke(shared_cluster().url()).await;
}
