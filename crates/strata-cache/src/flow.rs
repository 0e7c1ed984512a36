//! One request through the cache: bypass, lookup, freshness, and the way
//! to the origin (with coalescing) when nothing stored fits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, COOKIE, RANGE};
use http::request::Parts;
use http::{Method, Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::body::CacheBody;
use crate::clock::now_ms;
use crate::config::Shared;
use crate::directives::{RequestDirectives, ResponseDirectives};
use crate::fetch::Asked;
use crate::invalidate::{invalidate, invalidated};
use crate::key::{cacheable_method, safe_method, variant};
use crate::miss::{Miss, miss, refresh_in_background};
use crate::respond::{finish, from_entry, only_if_cached, ttl_seconds};
use crate::status::{Fwd, Status};
use crate::store::Lookup;
use crate::{CacheKey, Entry, StoreError};

/// What a lookup found for one request.
pub(crate) struct Found {
    pub(crate) variant: String,
    pub(crate) lookup: Lookup,
}

/// [`lookup`] from a store that answers at once (in process): `None`
/// when it cannot.
fn lookup_now(shared: &Shared, key: &CacheKey, parts: &Parts) -> Option<Result<Found, StoreError>> {
    let first = match shared.store.get_now(key, "")? {
        Ok(first) => first,
        Err(error) => return Some(Err(error)),
    };
    Some(match first.vary.as_deref() {
        Some(names) if !names.is_empty() => {
            let variant = variant(names, &parts.headers);
            match shared.store.get_now(key, &variant)? {
                Ok(mut lookup) => {
                    if lookup.entry.as_ref().is_some_and(|e| e.vary != names) {
                        lookup.entry = None;
                    }
                    Ok(Found { variant, lookup })
                }
                Err(error) => Err(error),
            }
        }
        _ => Ok(Found {
            variant: String::new(),
            lookup: first,
        }),
    })
}

/// Reads the request's variant of `key`: first the resource's `Vary`
/// names (and the unvaried variant), then its variant when it varies.
pub(crate) async fn lookup(
    shared: &Shared,
    key: &CacheKey,
    parts: &Parts,
) -> Result<Found, StoreError> {
    let first = shared.timed(shared.store.get(key, "")).await?;
    match first.vary.as_deref() {
        Some(names) if !names.is_empty() => {
            let variant = variant(names, &parts.headers);
            let mut lookup = shared.timed(shared.store.get(key, &variant)).await?;
            if lookup.entry.as_ref().is_some_and(|e| e.vary != names) {
                lookup.entry = None;
            }
            Ok(Found { variant, lookup })
        }
        _ => Ok(Found {
            variant: String::new(),
            lookup: first,
        }),
    }
}

/// Whether a stored entry may answer this request at all (before
/// freshness): its coding is acceptable and, with credentials, it is
/// shareable.
pub(crate) fn usable(entry: &Entry, parts: &Parts, authorization: bool, cookie: bool) -> bool {
    let coding = entry
        .headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    if !crate::encoding::accepts(&parts.headers, coding) {
        return false;
    }
    if authorization || cookie {
        let d = ResponseDirectives::parse(&entry.headers);
        return d.shareable() || (!cookie && d.must_revalidate);
    }
    true
}

/// The request's facts about credentials.
pub(crate) fn credentials(shared: &Shared, parts: &Parts) -> (bool, bool) {
    let authorization = parts.headers.contains_key(AUTHORIZATION);
    let cookie = parts.headers.contains_key(COOKIE)
        && !shared
            .ignore_cookies
            .as_ref()
            .is_some_and(|ignore| ignore(parts));
    (authorization, cookie)
}

/// The future [`Cache`](crate::Cache) returns for one request.
pub(crate) type Flow<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<CacheBody<B>>, E>> + Send>>;

/// One request through the cache.
///
/// The decisions that need no store are made here, before anything is
/// boxed: a request that bypasses the cache gets a future holding only
/// the origin's, and one that is looked up a future without the bypass
/// ways. Each way is an `async` block, not an `async fn`, so what it
/// takes is held once. A small future is cheap to allocate and move.
pub(crate) fn run<S, ReqB, ResB>(
    shared: Arc<Shared>,
    mut inner: S,
    request: Request<ReqB>,
) -> Flow<ResB, S::Error>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    let (parts, body) = request.into_parts();
    if !cacheable_method(&parts.method) {
        let key = CacheKey::from_request(&parts);
        let unsafe_method = !safe_method(&parts.method);
        shared.count_bypass("method");
        let call = inner.call(Request::from_parts(parts, body));
        return Box::pin(async move {
            let response = call.await?;
            let ok = response.status().is_success() || response.status().is_redirection();
            if let (true, true, Some(key)) = (unsafe_method, ok, key) {
                let keys = invalidated(&key, response.headers());
                invalidate(&shared, keys).await;
            }
            let status = Status {
                fwd_status: Some(response.status().as_u16()),
                ..Status::fwd(Fwd::Method)
            };
            Ok(finish(&shared, response.map(CacheBody::inner), &status))
        });
    }
    let key = CacheKey::from_request(&parts);
    let bypass = match &key {
        None => Some("no-authority"),
        Some(_) if parts.headers.contains_key(RANGE) => Some("range"),
        Some(_) => None,
    };
    let rd = RequestDirectives::parse(&parts.headers);
    if bypass == Some("no-authority") {
        warn_no_authority();
    }
    let (Some(key), None) = (key, bypass.or(rd.no_store.then_some("no-store"))) else {
        let reason = bypass.unwrap_or("no-store");
        shared.count_bypass(reason);
        let fwd = if rd.no_store && bypass.is_none() {
            Fwd::Request
        } else {
            Fwd::Bypass
        };
        let call = inner.call(Request::from_parts(parts, body));
        return Box::pin(async move {
            let response = call.await?;
            let status = Status {
                fwd_status: Some(response.status().as_u16()),
                ..Status::fwd(fwd).detail(reason)
            };
            Ok(finish(&shared, response.map(CacheBody::inner), &status))
        });
    };
    Box::pin(cached(shared, inner, parts, body, key, rd))
}

/// A request the cache may answer: the lookup, then a stored answer or
/// the way to the origin.
fn cached<S, ReqB, ResB>(
    shared: Arc<Shared>,
    mut inner: S,
    parts: Parts,
    body: ReqB,
    key: CacheKey,
    rd: RequestDirectives,
) -> impl Future<Output = Result<Response<CacheBody<ResB>>, S::Error>> + Send + use<S, ReqB, ResB>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    let (authorization, cookie) = credentials(&shared, &parts);
    let asked = Asked {
        authorization,
        cookie,
        stale_if_error: rd.stale_if_error(),
    };
    async move {
        // A store in process answers without a future or a timer.
        let found = match lookup_now(&shared, &key, &parts) {
            Some(found) => found,
            None => lookup(&shared, &key, &parts).await,
        };
        let miss = match found {
            Err(error) => {
                shared.store_failed(&error);
                shared.count_bypass("store-error");
                let response = inner.call(Request::from_parts(parts, body)).await?;
                let status = Status {
                    fwd_status: Some(response.status().as_u16()),
                    ..Status::fwd(Fwd::Bypass).detail("store-unavailable")
                };
                return Ok(finish(&shared, response.map(CacheBody::inner), &status));
            }
            Ok(found) => {
                shared.store_ok();
                match answer(&shared, &parts, key, &rd, found, asked) {
                    Answer::Respond(response) => return Ok(response),
                    Answer::Refresh(response, refresh) => {
                        let Refresh {
                            key,
                            variant,
                            entry,
                        } = *refresh;
                        refresh_in_background(
                            Arc::clone(&shared),
                            inner,
                            parts,
                            body,
                            key,
                            variant,
                            entry,
                        );
                        return Ok(response);
                    }
                    Answer::Miss(miss) => miss,
                }
            }
        };
        self::miss(shared, inner, parts, body, miss).await
    }
}

/// What a lookup leads to.
enum Answer<B> {
    /// A stored response (or `only-if-cached`'s `504`).
    Respond(Response<CacheBody<B>>),
    /// A stale response served while the entry is refreshed in the
    /// background.
    Refresh(Response<CacheBody<B>>, Box<Refresh>),
    /// The origin, once per variant when coalescing.
    Miss(Miss),
}

/// The entry a background refresh revalidates.
struct Refresh {
    key: CacheKey,
    variant: String,
    entry: Entry,
}

/// What the lookup `found` answers, with no more store calls.
fn answer<B>(
    shared: &Shared,
    parts: &Parts,
    key: CacheKey,
    rd: &RequestDirectives,
    found: Found,
    asked: Asked,
) -> Answer<B> {
    let Found { variant, lookup } = found;
    let Asked {
        authorization,
        cookie,
        ..
    } = asked;
    let known = lookup.vary.is_some() || lookup.entry.is_some();
    let soft = lookup.soft_purged_at;
    let stored = lookup.entry.is_some();
    let entry = lookup
        .entry
        .filter(|e| usable(e, parts, authorization, cookie));
    let Some(entry) = entry else {
        if rd.only_if_cached {
            shared.count("miss");
            return Answer::Respond(only_if_cached(
                shared,
                &Status::fwd(Fwd::UriMiss).detail("only-if-cached"),
            ));
        }
        let fwd = match (stored, authorization || cookie, known) {
            // Stored, but not for a request with credentials.
            (true, true, _) => Fwd::Bypass,
            (_, _, true) => Fwd::VaryMiss,
            _ => Fwd::UriMiss,
        };
        let coalesce = shared.coalesce && !authorization && !cookie && parts.method == Method::GET;
        let miss = Miss {
            key,
            variant,
            fwd,
            coalesce,
            stale: None,
            asked,
        };
        return Answer::Miss(miss);
    };

    let now = now_ms();
    let age = entry.age_at(now);
    let d = ResponseDirectives::parse(&entry.headers);
    let soft = soft.filter(|&at| at >= entry.response_time);
    let fresh = soft.is_none() && age < entry.lifetime;
    let staleness = match soft {
        Some(at) => now.saturating_sub(at),
        None => age.saturating_sub(entry.lifetime),
    };
    let ttl = if soft.is_some() {
        -i64::try_from(staleness / 1000).unwrap_or(0) - 1
    } else {
        ttl_seconds(entry.lifetime, age)
    };
    let within =
        |allowance: Option<u64>| allowance.is_some_and(|s| staleness <= s.saturating_mul(1000));
    let max_age_ok = rd.max_age().is_none_or(|m| age <= m.saturating_mul(1000));
    let min_fresh_ok = entry.lifetime.saturating_sub(age) >= rd.min_fresh().saturating_mul(1000);
    let must_validate = rd.no_cache || d.no_cache;

    if fresh && max_age_ok && min_fresh_ok && !must_validate {
        shared.count("hit");
        return Answer::Respond(from_entry(
            shared,
            entry,
            &parts.headers,
            &parts.method,
            age,
            &Status::hit(ttl),
        ));
    }
    if !fresh && !must_validate && !d.forbids_stale() && max_age_ok && within(rd.max_stale()) {
        shared.count("stale");
        let status = Status::hit(ttl).detail("max-stale");
        return Answer::Respond(from_entry(
            shared,
            entry,
            &parts.headers,
            &parts.method,
            age,
            &status,
        ));
    }
    if !fresh && !must_validate && max_age_ok && within(d.stale_while_revalidate()) {
        shared.count("stale");
        let response = from_entry(
            shared,
            entry.clone(),
            &parts.headers,
            &parts.method,
            age,
            &Status::hit(ttl).detail("stale-while-revalidate"),
        );
        return Answer::Refresh(
            response,
            Box::new(Refresh {
                key,
                variant,
                entry,
            }),
        );
    }
    if rd.only_if_cached {
        shared.count("miss");
        return Answer::Respond(only_if_cached(
            shared,
            &Status::fwd(Fwd::Stale).detail("only-if-cached"),
        ));
    }
    let fwd = if fresh { Fwd::Request } else { Fwd::Stale };
    // Concurrent revalidations of one variant make one origin request too,
    // unless the client asked for its own (`no-cache`).
    let coalesce =
        shared.coalesce && !authorization && !cookie && parts.method == Method::GET && !rd.no_cache;
    let miss = Miss {
        key,
        variant,
        fwd,
        coalesce,
        stale: Some(entry),
        asked,
    };
    Answer::Miss(miss)
}

/// A request without an authority cannot be keyed: logged once per
/// process (it is a server setup problem), counted as a bypass each time.
fn warn_no_authority() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "a request reached the cache with neither an absolute target nor a `Host` header: it bypasses \
             the cache (counted in strata_cache_bypasses_total{{reason=\"no-authority\"}}); make the server \
             or proxy in front pass `Host`"
        );
    }
}
