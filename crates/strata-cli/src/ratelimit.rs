//! `strata ratelimit ...` against Redis, through strata-rate-limit's
//! `RateLimitAdmin`.

use std::time::Duration;

use std::io::Write;

use serde_json::json;
use strata_rate_limit::{Key, Policy, Quota, RateLimitAdmin, RedisStore};

use crate::args::{Global, RateLimitCommand};
use crate::fail::{Fail, redact};
use crate::redis::{Audit, connect, report};
use crate::term::{confirm, output, span};

pub(crate) async fn run(
    global: &Global,
    command: &RateLimitCommand,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let policy = match command {
        RateLimitCommand::Show { policy, quota, .. } => {
            let (Some(name), Some(quota)) = (policy, quota) else {
                return Err(Fail::usage(
                    "ratelimit show needs --policy and --quota against Redis (the quota is the \
                     service's configuration), e.g. --policy per-ip --quota 60/min",
                ));
            };
            Some(Policy::new(name.as_str(), parse_quota(quota)?))
        }
        RateLimitCommand::Reset { .. } => None,
    };
    let pool = connect(global).await?;
    let store = RedisStore::new(pool.clone())
        .prefix(global.rate_limit_prefix.as_str())
        .timeout(global.connect_timeout);
    let admin = RateLimitAdmin::new(store);
    let store_error = |e| {
        Fail::failure(format!(
            "rate-limit store at {}: {e}",
            redact(&global.redis_url)
        ))
    };
    match command {
        RateLimitCommand::Show { key, .. } => {
            let Some(policy) = policy else { return Ok(0) };
            let usage = admin
                .show(&parse_key(key), &policy)
                .await
                .map_err(store_error)?;
            output(
                out,
                global.json,
                &json!({"key": key, "policy": usage.policy, "limit": usage.limit,
                    "remaining": usage.remaining, "full_in_ms": ms(usage.full_in),
                    "retry_after_s": usage.retry_after.as_secs_f64().ceil() as u64}),
                &[
                    [
                        "key",
                        "policy",
                        "limit",
                        "remaining",
                        "full in",
                        "retry after",
                    ]
                    .map(String::from)
                    .to_vec(),
                    vec![
                        key.clone(),
                        usage.policy.clone(),
                        usage.limit.to_string(),
                        usage.remaining.to_string(),
                        span(usage.full_in),
                        span(usage.retry_after),
                    ],
                ],
            );
            Ok(0)
        }
        RateLimitCommand::Reset {
            key,
            policy,
            destructive,
        } => {
            let target = match policy {
                Some(p) => format!("key {key} policy {p}"),
                None => format!("key {key}, every policy"),
            };
            let key_of = parse_key(key);
            let held = admin
                .states(&key_of, policy.as_deref())
                .await
                .map_err(store_error)?;
            let plan = format!(
                "reset {target}: {held} states at {}",
                redact(&global.redis_url)
            );
            let mut done = held;
            if destructive.dry_run {
                eprintln!("dry run: would {plan}");
            } else {
                confirm(&format!("will {plan}"), destructive.yes)?;
                done = admin
                    .reset(&key_of, policy.as_deref())
                    .await
                    .map_err(store_error)?;
            }
            let entry = Audit::new("ratelimit reset", target, done, destructive.dry_run);
            report(&pool, global, entry, "states removed", out).await?;
            Ok(0)
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `ip:<address>` is an address key, `global` the global key, anything
/// else a text key (as `Key`'s `Display` writes them).
pub(crate) fn parse_key(text: &str) -> Key {
    if text == "global" {
        return Key::global();
    }
    match text.strip_prefix("ip:").and_then(|a| a.parse().ok()) {
        Some(ip) => Key::ip(ip),
        None => Key::new(text),
    }
}

/// `N/unit` (`s`, `min`, `h`, `d`, or a duration such as `10s`), with an
/// optional `,burst=B`.
pub(crate) fn parse_quota(text: &str) -> Result<Quota, Fail> {
    let bad = || {
        Fail::usage(format!(
            "bad quota {text:?}: use N/s, N/min, N/h, N/d or N/<duration>, optionally ,burst=B"
        ))
    };
    let (rate, burst) = match text.split_once(',') {
        Some((rate, burst)) => (rate, Some(burst.strip_prefix("burst=").ok_or_else(bad)?)),
        None => (text, None),
    };
    let (count, unit) = rate.split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    let period = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        other => humantime::parse_duration(other).map_err(|_| bad())?,
    };
    if count == 0 || period.is_zero() {
        return Err(bad());
    }
    let quota = Quota::new(count, period);
    match burst {
        Some(b) => Ok(quota.burst(b.parse().map_err(|_| bad())?)),
        None => Ok(quota),
    }
}
