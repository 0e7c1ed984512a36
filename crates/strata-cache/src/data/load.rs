//! [`DataCache::get_or_insert_with`]: coalesced loads, stale on error,
//! refresh ahead and negative caching.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::flight::{self, Failure, Join, Outcome};
use super::{DataCache, DataKey, Metrics, Ttl, value};
use crate::{CacheKey, Lease, LoadError};

impl DataCache {
    /// The value of `key`, loaded with `loader` and stored for `ttl` (a
    /// [`Duration`](std::time::Duration) or a [`Ttl`]) when missing.
    ///
    /// Concurrent misses of one key run one loader: the others wait for
    /// its value, or its error (every waiter gets the same
    /// [`LoadError::Loader`]). On a shared store the other instances wait
    /// too (the response cache's fill lease, woken over pub/sub). An error
    /// is not stored, unless the call's [`Ttl::negative`] says so; with
    /// [`Ttl::stale_on_error`] the last value is served instead; with
    /// [`Ttl::refresh_ahead`] a hit late in its freshness starts one
    /// background refresh.
    ///
    /// The store failing or timing out never fails the call: it is
    /// counted, and the loader serves. The loader is `'static` because it
    /// may run in the background (refresh ahead).
    pub async fn get_or_insert_with<V, E, F, Fut>(
        &self,
        key: &DataKey<V>,
        ttl: impl Into<Ttl>,
        loader: F,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + 'static,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let ttl = ttl.into();
        let key = key.store_key();
        if let Some(error) = self.inner.negative.get::<E>(key.digest()) {
            return Err(LoadError::Loader(error));
        }
        let stale = match self.lookup(key).await {
            Some(found) if found.fresh => {
                if let Some(value) = value::decode::<V>(&found.bytes) {
                    if ttl.refresh_at.is_some_and(|at| found.age >= at) {
                        self.refresh::<V, E, F, Fut>(key.clone(), ttl, loader);
                    }
                    return Ok(value);
                }
                None
            }
            // Kept for the loader failing, when this call asks for it.
            Some(found) if !ttl.stale.is_zero() => Some(found.bytes),
            _ => None,
        };
        // Long enough for a leader that waited on another instance's lease
        // and then loaded itself.
        let patience = self.inner.load_timeout * 2 + self.inner.store_timeout * 6;
        loop {
            match self.inner.flights.join(key.digest()) {
                Join::Waiter(rx) => {
                    self.count(|m| m.coalesced());
                    // `None`: the leader gave up (cancelled); try again.
                    if let Some(outcome) = flight::wait(rx, patience).await {
                        match deliver::<V, E>(outcome) {
                            Some(result) => return result,
                            // Not shareable: load alone.
                            None => return self.load(key, &ttl, loader, stale).await.0,
                        }
                    }
                }
                Join::Leader(leader) => {
                    let (result, outcome) = self.lead(key, &ttl, loader, stale).await;
                    leader.finish(outcome);
                    return result;
                }
            }
        }
    }

    /// Loads once across instances: under the store's lease, after checking
    /// that no other instance stored the value meanwhile.
    async fn lead<V, E, F, Fut>(
        &self,
        key: &CacheKey,
        ttl: &Ttl,
        loader: F,
        stale: Option<Bytes>,
    ) -> (Result<V, LoadError<E>>, Outcome)
    where
        V: Serialize + DeserializeOwned,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let timeout = self.inner.load_timeout;
        let lease = match self.timed(self.inner.store.lease(key, "", timeout)).await {
            Ok(lease) => Some(lease),
            Err(error) => {
                self.failed(error);
                None
            }
        };
        if let Some(Lease::Held) = lease {
            self.count(|m| m.coalesced());
            self.inner.store.wait(key, "", timeout).await;
        }
        if matches!(lease, Some(Lease::Held | Lease::Acquired(_)))
            && let Some(found) = self.lookup(key).await.filter(|s| s.fresh)
            && let Some(value) = value::decode::<V>(&found.bytes)
        {
            self.release(key, lease).await;
            return (Ok(value), Ok(found.bytes));
        }
        let loaded = self.load(key, ttl, loader, stale).await;
        self.release(key, lease).await;
        loaded
    }

    async fn release(&self, key: &CacheKey, lease: Option<Lease>) {
        if let Some(Lease::Acquired(token)) = lease
            && let Err(error) = self.timed(self.inner.store.release(key, "", token)).await
        {
            self.failed(error);
        }
    }

    /// Runs the loader (bounded by the load timeout) and stores its value.
    async fn load<V, E, F, Fut>(
        &self,
        key: &CacheKey,
        ttl: &Ttl,
        loader: F,
        stale: Option<Bytes>,
    ) -> (Result<V, LoadError<E>>, Outcome)
    where
        V: Serialize + DeserializeOwned,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        self.count(|m| m.load());
        let timeout = self.inner.load_timeout;
        let (error, failure): (LoadError<E>, Failure) =
            match tokio::time::timeout(timeout, loader()).await {
                Ok(Ok(value)) => {
                    let Ok(bytes) = value::encode(&value) else {
                        tracing::warn!(
                            "data cache: a loaded value could not be encoded; not stored"
                        );
                        return (Ok(value), Err(Failure::Unshareable));
                    };
                    // A store error is counted; the value is served anyway.
                    let _ = self.put(key, &bytes, ttl).await;
                    return (Ok(value), Ok(bytes));
                }
                Ok(Err(error)) => {
                    let error = Arc::new(error);
                    let shared: Arc<dyn Any + Send + Sync> = error.clone();
                    (LoadError::Loader(error), Failure::Loader(shared))
                }
                Err(_) => (LoadError::Timeout(timeout), Failure::Timeout(timeout)),
            };
        self.count(|m| m.loader_error());
        if let Some(bytes) = stale
            && let Some(value) = value::decode::<V>(&bytes)
        {
            self.count(|m| m.stale());
            return (Ok(value), Ok(bytes));
        }
        if let (Some(window), Failure::Loader(shared)) = (ttl.negative, &failure) {
            let shared = Arc::clone(shared);
            self.inner.negative.insert(key.digest(), shared, window);
        }
        (Err(error), Err(failure))
    }

    /// Starts one background refresh of `key` unless one (or a load) is
    /// under way, here or, on a shared store, on another instance.
    fn refresh<V, E, F, Fut>(&self, key: CacheKey, ttl: Ttl, loader: F)
    where
        V: Serialize + DeserializeOwned + Send + 'static,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let Join::Leader(leader) = self.inner.flights.join(key.digest()) else {
            return;
        };
        let this = self.clone();
        let ttl = Ttl {
            negative: None,
            ..ttl
        };
        tokio::spawn(async move {
            let timeout = this.inner.load_timeout;
            let lease = match this.timed(this.inner.store.lease(&key, "", timeout)).await {
                Ok(Lease::Held) => return,
                Ok(lease) => Some(lease),
                Err(error) => {
                    this.failed(error);
                    None
                }
            };
            let (_, outcome) = this.load::<V, E, F, Fut>(&key, &ttl, loader, None).await;
            this.release(&key, lease).await;
            leader.finish(outcome);
        });
    }

    #[cfg_attr(not(feature = "prometheus"), allow(unused_variables))]
    fn count(&self, f: impl FnOnce(&Metrics)) {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.inner.metrics {
            f(m);
        }
    }
}

/// A leader's outcome as this waiter's result; `None` when it must load
/// on its own (a value it cannot decode, an error of another type).
fn deliver<V: DeserializeOwned, E: Send + Sync + 'static>(
    outcome: Outcome,
) -> Option<Result<V, LoadError<E>>> {
    match outcome {
        Ok(bytes) => value::decode(&bytes).map(Ok),
        Err(Failure::Loader(error)) => error
            .downcast::<E>()
            .ok()
            .map(|e| Err(LoadError::Loader(e))),
        Err(Failure::Timeout(after)) => Some(Err(LoadError::Timeout(after))),
        Err(Failure::Unshareable) => None,
    }
}
