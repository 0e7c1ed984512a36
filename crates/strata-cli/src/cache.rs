//! `strata cache ...` against Redis, through strata-cache's `CacheHandle`.

use std::io::Write;

use serde_json::json;
use strata_cache::{CacheHandle, CacheKey, RedisStore, TieredStore};

use crate::args::{CacheCommand, Global};
use crate::fail::{Fail, redact};
use crate::redis::{Audit, connect, report};
use crate::term::{Progress, confirm, output};

pub(crate) async fn run(
    global: &Global,
    command: &CacheCommand,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    // Validate arguments before connecting.
    if let CacheCommand::Purge { url: Some(url), .. } = command {
        parse_url(url)?;
    }
    let pool = connect(global).await?;
    // A tiered store announces purges on the store's channel, so services
    // keeping a memory tier drop their copies too.
    let store =
        TieredStore::new(RedisStore::new(pool.clone()).prefix(global.cache_prefix.as_str()));
    let handle = CacheHandle::new(store)
        .map_err(|e| Fail::usage(format!("bad cache prefix {:?}: {e}", global.cache_prefix)))?;
    let store_error =
        |e| Fail::failure(format!("cache store at {}: {e}", redact(&global.redis_url)));
    match command {
        CacheCommand::Stats => {
            let progress = Progress::new("scanning keys", None);
            let stats = handle
                .stats(&|n| progress.report(n))
                .await
                .map_err(store_error)?;
            progress.finish();
            let cell = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            output(
                out,
                global.json,
                &json!({"prefix": global.cache_prefix, "resources": stats.resources,
                    "entries": stats.entries, "tags": stats.tags, "bytes": stats.bytes}),
                &[
                    vec![
                        "prefix".into(),
                        "resources".into(),
                        "entries".into(),
                        "tags".into(),
                    ],
                    vec![
                        global.cache_prefix.clone(),
                        cell(stats.resources),
                        cell(stats.entries),
                        cell(stats.tags),
                    ],
                ],
            );
            Ok(0)
        }
        CacheCommand::Purge {
            tag,
            url,
            soft,
            destructive,
        } => {
            let how = if *soft { "soft-purge" } else { "purge" };
            let (target, count) = match (tag, url) {
                (Some(tag), _) => {
                    let count = handle.count_tag(tag).await.map_err(store_error)?;
                    if count == 0 {
                        return Err(Fail::failure(format!(
                            "unknown tag {tag:?}: no cached resource carries it (prefix {})",
                            global.cache_prefix
                        )));
                    }
                    (format!("tag {tag}"), count)
                }
                (None, Some(url)) => {
                    let key = parse_url(url)?;
                    (
                        format!("url {url}"),
                        handle.count(&key).await.map_err(store_error)?,
                    )
                }
                (None, None) => return Err(Fail::usage("give --tag or --url")),
            };
            let plan = format!(
                "{how} {target}: {count} {} at {}",
                if tag.is_some() {
                    "resources"
                } else {
                    "stored variants"
                },
                redact(&global.redis_url)
            );
            let mut done = count;
            if destructive.dry_run {
                eprintln!("dry run: would {plan}");
            } else {
                confirm(&format!("will {plan}"), destructive.yes)?;
                done = match (tag, url) {
                    (Some(tag), _) => {
                        let progress = Progress::new("resources", Some(count));
                        let n = handle
                            .purge_tag_progress(tag, *soft, &|n| progress.report(n))
                            .await
                            .map_err(store_error)?;
                        progress.finish();
                        n
                    }
                    (None, Some(url)) => {
                        let key = parse_url(url)?;
                        if *soft {
                            handle.soft_purge(&key).await.map_err(store_error)?;
                        } else {
                            handle.purge(&key).await.map_err(store_error)?;
                        }
                        count
                    }
                    (None, None) => 0,
                };
            }
            let action = format!("cache {how}");
            let entry = Audit::new(&action, target, done, destructive.dry_run);
            report(&pool, global, entry, "count", out).await?;
            Ok(0)
        }
    }
}

fn parse_url(url: &str) -> Result<CacheKey, Fail> {
    CacheKey::from_url(url).ok_or_else(|| {
        Fail::usage(format!(
            "bad URL {url:?}: give an absolute URL such as https://example.com/items?page=2"
        ))
    })
}
