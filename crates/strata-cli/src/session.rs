//! `strata session ...` against Redis, through strata-session's
//! `SessionAdmin`.

use std::io::Write;

use serde_json::json;
use strata_session::{RecordId, RedisStore, SessionAdmin};

use crate::args::{Global, SessionCommand};
use crate::fail::{Fail, redact};
use crate::redis::{Audit, connect, report};
use crate::term::{confirm, output, time};

pub(crate) async fn run(
    global: &Global,
    command: &SessionCommand,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let id = match command {
        SessionCommand::Revoke { id: Some(id), .. } => {
            Some(RecordId::parse(id).ok_or_else(|| {
                Fail::usage(format!(
                    "bad session id {id:?}: use an id `session list` prints"
                ))
            })?)
        }
        _ => None,
    };
    let pool = connect(global).await?;
    let admin =
        SessionAdmin::new(RedisStore::new(pool.clone()).prefix(global.session_prefix.as_str()));
    let store_error = |e| {
        Fail::failure(format!(
            "session store at {}: {e}",
            redact(&global.redis_url)
        ))
    };
    match command {
        SessionCommand::List { user } => {
            let sessions = admin.list(user).await.map_err(store_error)?;
            let mut rows = vec![
                ["id", "created", "last seen", "expires", "ip", "user agent"]
                    .map(String::from)
                    .to_vec(),
            ];
            for s in &sessions {
                rows.push(vec![
                    s.id.to_string(),
                    time(s.created_ms),
                    time(s.seen_ms),
                    time(s.expires_ms),
                    s.ip.clone().unwrap_or_default(),
                    s.user_agent.clone().unwrap_or_default(),
                ]);
            }
            let value =
                serde_json::to_value(&sessions).map_err(|e| Fail::failure(e.to_string()))?;
            output(
                out,
                global.json,
                &json!({"user": user, "sessions": value}),
                &rows,
            );
            Ok(0)
        }
        SessionCommand::Revoke {
            user, destructive, ..
        } => {
            let live = admin.list(user).await.map_err(store_error)?;
            let count = match &id {
                Some(id) if live.iter().any(|s| s.id == *id) => 1,
                Some(id) => {
                    return Err(Fail::failure(format!(
                        "unknown session {id} of user {user:?}"
                    )));
                }
                None => live.len() as u64,
            };
            let target = match &id {
                Some(id) => format!("session {id} of user {user}"),
                None => format!("every session of user {user}"),
            };
            let plan = format!(
                "revoke {target}: {count} sessions at {}",
                redact(&global.redis_url)
            );
            let mut done = count;
            if destructive.dry_run {
                eprintln!("dry run: would {plan}");
            } else if count > 0 {
                confirm(&format!("will {plan}"), destructive.yes)?;
                done = match &id {
                    Some(id) => u64::from(admin.revoke(user, id).await.map_err(store_error)?),
                    None => admin.revoke_all(user).await.map_err(store_error)? as u64,
                };
            }
            let entry = Audit::new("session revoke", target, done, destructive.dry_run);
            report(&pool, global, entry, "count", out).await?;
            Ok(0)
        }
    }
}
