//! The Redis store: entries as raw bytes under per-resource hash tags,
//! tag indexes as sets, Lua scripts for every multi-key step, fill leases
//! with pub/sub wake-ups.

mod admin;
mod notify;
mod ops;

use std::fmt;
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use strata_core::ConfigError;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::{ClientLike, LuaInterface};
use strata_core::redis::fred::prelude::Error;
use strata_core::redis::fred::types::{FromValue, MultipleKeys, Value};
use tokio::sync::Notify;

use crate::StoreError;
use strata_core::redis::{Link, Route};

/// A Lua script, run with `EVALSHA` (falling back to `EVAL`, which caches
/// it, after a restart or failover emptied the script cache).
pub(crate) struct Script {
    text: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    const fn new(text: &'static str) -> Self {
        Self {
            text,
            sha: OnceLock::new(),
        }
    }
}

pub(crate) static PUT: Script = Script::new(include_str!("put.lua"));
pub(crate) static INDEX: Script = Script::new(include_str!("index.lua"));
pub(crate) static PURGE: Script = Script::new(include_str!("purge.lua"));
pub(crate) static RELEASE: Script = Script::new(include_str!("release.lua"));

/// Responses in Redis (or Redis Cluster), shared by every instance with
/// the same pool target and key prefix.
///
/// # Keys
///
/// `<prefix>` defaults to `strata:cache:`; `<d>` is a resource's
/// [`CacheKey::digest`](crate::CacheKey::digest), `<v>` a variant id (`""`
/// without `Vary`). Every key has a TTL.
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>e:{<d>}:<v>` | string | one variant's [`Entry`](crate::Entry) as raw bytes ([`Entry::encode`](crate::Entry::encode)) |
/// | `<prefix>m:{<d>}` | hash | `vary` (the resource's `Vary` names), `soft` (soft-purge time, ms) |
/// | `<prefix>v:{<d>}` | set | the resource's variant ids |
/// | `<prefix>t:{<tag>}` | set | digests of the resources tagged `<tag>` (`%`, `{`, `}` escaped as `%25`, `%7B`, `%7D`) |
/// | `<prefix>l:{<d>}:<v>` | string | the fill lease of a variant (`SET NX PX`) |
///
/// and the pub/sub channels `<prefix>filled`, on which a released lease
/// announces `<d>:<v>`, and `<prefix>invalidate`, which carries
/// [`Store::broadcast`](crate::Store::broadcast) messages (the memory
/// tiers of [`TieredStore`](crate::TieredStore)s evicting what another
/// instance overwrote or purged).
///
/// A resource's keys share its hash tag, so one script stores, reads or
/// purges a resource atomically, also on a cluster. A tag's index lives on
/// the tag's slot. A tag purge walks the index in batches (`SSCAN`, about
/// 500 members a call) so that no single call blocks Redis for the whole
/// tag: on a single server each batch is one atomic script (its resources
/// and their index entries); on a cluster a script reads a batch of the
/// index on its slot, each resource is purged atomically on its own slot,
/// and the batch's members are removed from the index after them (a purge
/// cut short leaves the rest of the index for a retry). A tag purge is thus
/// not one atomic step: a request during it may still find a resource of
/// the tag that a later batch removes. Index entries of resources that expired
/// or were purged by key stay until the index set expires (its TTL is
/// extended to the longest-lived member's on every store) or the tag is
/// purged; [`clean_tags`](Self::clean_tags) removes them with `SCAN` and
/// `SSCAN` (never `KEYS`).
///
/// Every call goes through the layer's `store_timeout`. Once Redis is known
/// to be down (a call failed and no connection of the pool is up), calls
/// fail at once with [`StoreError::Disconnected`] and requests go to the
/// origin, until the pool reconnects on its own.
///
/// ```no_run
/// use strata_cache::{CacheLayer, RedisStore};
/// use strata_core::redis::RedisPoolBuilder;
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let (layer, handle) = CacheLayer::builder(RedisStore::new(pool).prefix("myapp:cache:")).pair()?;
/// # let _ = (layer, handle);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: Arc<str>,
    shared: Arc<Shared>,
}

struct Shared {
    link: Link,
    clustered: bool,
    waiters: Arc<DashMap<String, Arc<Notify>>>,
    subscriber: tokio::sync::OnceCell<()>,
    notices: tokio::sync::broadcast::Sender<crate::store::Notice>,
}

impl RedisStore {
    /// A store on `pool` (build it with
    /// [`RedisPoolBuilder`](strata_core::redis::RedisPoolBuilder)), key
    /// prefix `strata:cache:`.
    pub fn new(pool: Pool) -> Self {
        let clustered = pool.next().is_clustered();
        let link = Link::new(&pool);
        Self {
            pool,
            prefix: Arc::from("strata:cache:"),
            shared: Arc::new(Shared {
                link,
                clustered,
                waiters: Arc::default(),
                subscriber: tokio::sync::OnceCell::new(),
                notices: tokio::sync::broadcast::channel(1024).0,
            }),
        }
    }

    /// Prefix of every key and of the channel. Default `strata:cache:`; no
    /// `{` or `}`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<Arc<str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.prefix.contains(['{', '}']) {
            return Err(ConfigError::invalid(
                "RedisStore::prefix",
                "must not contain `{` or `}` (they delimit the cluster hash tag)",
            ));
        }
        Ok(())
    }

    fn meta_key(&self, digest: &str) -> String {
        format!("{}m:{{{digest}}}", self.prefix)
    }

    fn variants_key(&self, digest: &str) -> String {
        format!("{}v:{{{digest}}}", self.prefix)
    }

    fn entry_key(&self, digest: &str, variant: &str) -> String {
        format!("{}e:{{{digest}}}:{variant}", self.prefix)
    }

    fn lease_key(&self, digest: &str, variant: &str) -> String {
        format!("{}l:{{{digest}}}:{variant}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        let escaped = tag
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D");
        format!("{}t:{{{escaped}}}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}filled", self.prefix)
    }

    fn invalidate_channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    /// Runs `call` on a connected client unless Redis is known to be down,
    /// recording the outcome.
    async fn call<R, F>(
        &self,
        call: impl FnOnce(strata_core::redis::fred::clients::Client) -> F,
    ) -> Result<R, StoreError>
    where
        F: Future<Output = Result<R, Error>>,
    {
        if self.shared.link.route(&self.pool) == Route::Skip {
            return Err(StoreError::Disconnected);
        }
        let result = call(self.pool.next_connected().clone()).await;
        match &result {
            Ok(_) => {
                self.shared.link.succeeded();
            }
            Err(_) => {
                self.shared.link.failed();
            }
        }
        result.map_err(StoreError::from)
    }

    /// Runs `script` (its first key routes it on a cluster).
    async fn script<R: FromValue>(
        &self,
        script: &'static Script,
        keys: Vec<String>,
        args: Vec<Value>,
    ) -> Result<R, StoreError> {
        self.call(|client| async move {
            let keys: MultipleKeys = keys.into();
            let sha = match script.sha.get() {
                Some(sha) => sha.clone(),
                None => {
                    let sha: String = client.script_load(script.text).await?;
                    let _ = script.sha.set(sha.clone());
                    sha
                }
            };
            match client.evalsha(sha, keys.clone(), args.clone()).await {
                Err(error) if error.details().starts_with("NOSCRIPT") => {
                    client.eval(script.text, keys, args).await
                }
                reply => reply,
            }
        })
        .await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("clustered", &self.shared.clustered)
            .finish_non_exhaustive()
    }
}
