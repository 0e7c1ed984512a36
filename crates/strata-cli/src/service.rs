//! The same commands through a running service's admin listener
//! (`--service`): JSON requests to its `/admin/...` endpoints (the example
//! server's, see `docs/example-server.md`) with the listener's bearer
//! token. The service acts with its own handles, so this reaches memory
//! stores too; the service logs each action.

use std::io::Write;

use http::Method;
use serde_json::{Value, json};

use crate::args::{CacheCommand, Command, Destructive, Global, RateLimitCommand, SessionCommand};
use crate::fail::Fail;
use crate::term::{confirm, output};

pub(crate) async fn run(
    service: &str,
    global: &Global,
    command: &Command,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let base = service.trim_end_matches('/');
    let call = |method: Method, path: String, body: Option<Value>| async move {
        request(base, global, method, &path, body).await
    };
    match command {
        Command::Cache(CacheCommand::Stats) => {
            let v = call(Method::GET, "/admin/cache/stats".into(), None).await?;
            let cell = |k: &str| {
                v.get(k).map_or("-".into(), |x| {
                    if x.is_null() {
                        "-".into()
                    } else {
                        x.to_string()
                    }
                })
            };
            let rows = [
                vec!["resources".into(), "entries".into(), "tags".into()],
                vec![cell("resources"), cell("entries"), cell("tags")],
            ];
            output(out, global.json, &v, &rows);
        }
        Command::Cache(CacheCommand::Purge {
            tag,
            url,
            soft,
            destructive,
        }) => {
            let body = json!({"tag": tag, "url": url, "soft": soft});
            destructive_call(
                global,
                "/admin/cache/purge".into(),
                body,
                destructive,
                &call,
                out,
            )
            .await?;
        }
        Command::Session(SessionCommand::List { user }) => {
            let v = call(
                Method::GET,
                format!("/admin/sessions/{}", segment(user)),
                None,
            )
            .await?;
            let mut rows = vec![
                ["id", "created", "last seen", "ip"]
                    .map(String::from)
                    .to_vec(),
            ];
            for s in v["sessions"].as_array().into_iter().flatten() {
                let ms = |k: &str| s[k].as_u64().map(crate::term::time).unwrap_or_default();
                rows.push(vec![
                    s["id"].as_str().unwrap_or("").into(),
                    ms("created_ms"),
                    ms("seen_ms"),
                    s["ip"].as_str().unwrap_or("").into(),
                ]);
            }
            output(out, global.json, &v, &rows);
        }
        Command::Session(SessionCommand::Revoke {
            user,
            id,
            destructive,
            ..
        }) => {
            let path = format!("/admin/sessions/{}/revoke", segment(user));
            destructive_call(global, path, json!({"id": id}), destructive, &call, out).await?;
        }
        Command::RateLimit(RateLimitCommand::Show { key, policy, .. }) => {
            let query = policy
                .as_ref()
                .map_or(String::new(), |p| format!("?policy={}", segment(p)));
            let v = call(
                Method::GET,
                format!("/admin/ratelimit/{}{query}", segment(key)),
                None,
            )
            .await?;
            let mut rows = vec![
                [
                    "policy",
                    "limit",
                    "remaining",
                    "full in (ms)",
                    "retry after (s)",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for p in v["policies"].as_array().into_iter().flatten() {
                rows.push(
                    [
                        "policy",
                        "limit",
                        "remaining",
                        "full_in_ms",
                        "retry_after_s",
                    ]
                    .map(|k| {
                        p[k].as_str()
                            .map_or_else(|| p[k].to_string(), str::to_owned)
                    })
                    .to_vec(),
                );
            }
            output(out, global.json, &v, &rows);
        }
        Command::RateLimit(RateLimitCommand::Reset {
            key,
            policy,
            destructive,
        }) => {
            let path = format!("/admin/ratelimit/{}/reset", segment(key));
            destructive_call(
                global,
                path,
                json!({"policy": policy}),
                destructive,
                &call,
                out,
            )
            .await?;
        }
        Command::Health { .. } => {}
    }
    Ok(0)
}

/// Asks the service to count first (`dry_run`), shows the count and asks,
/// then sends the real request.
async fn destructive_call<F, Fut>(
    global: &Global,
    path: String,
    mut body: Value,
    destructive: &Destructive,
    call: &F,
    out: &mut dyn Write,
) -> Result<(), Fail>
where
    F: Fn(Method, String, Option<Value>) -> Fut,
    Fut: Future<Output = Result<Value, Fail>>,
{
    body["dry_run"] = json!(true);
    let counted = call(Method::POST, path.clone(), Some(body.clone())).await?;
    let plan = format!(
        "{} {}: {} at {}",
        counted["action"].as_str().unwrap_or(""),
        counted["target"].as_str().unwrap_or(""),
        counted["count"],
        global.service.as_deref().unwrap_or("")
    );
    let result = if destructive.dry_run {
        eprintln!("dry run: would {plan}");
        counted
    } else {
        confirm(&format!("will {plan}"), destructive.yes)?;
        body["dry_run"] = json!(false);
        call(Method::POST, path, Some(body)).await?
    };
    let cell = |k: &str| {
        result[k]
            .as_str()
            .map_or_else(|| result[k].to_string(), str::to_owned)
    };
    let rows = [
        ["action", "target", "count", "dry run"]
            .map(String::from)
            .to_vec(),
        vec![
            cell("action"),
            cell("target"),
            cell("count"),
            cell("dry_run"),
        ],
    ];
    output(out, global.json, &result, &rows);
    Ok(())
}

async fn request(
    base: &str,
    global: &Global,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Fail> {
    let url = format!("{base}{path}");
    let (status, bytes) = crate::http::send(
        method,
        &url,
        global.token.as_deref(),
        body,
        global.connect_timeout,
    )
    .await?;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let detail = value["detail"]
        .as_str()
        .or(value["title"].as_str())
        .unwrap_or("");
    Err(Fail::failure(format!(
        "{base}: {path}: HTTP {} {detail}",
        status.as_u16()
    )))
}

/// Percent-encodes a path segment or query value.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
