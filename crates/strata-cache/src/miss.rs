//! The way to the origin when nothing stored fits: one request per
//! variant (in process, and across instances through the store's lease),
//! the others answered from what it stored; background refreshes.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::Either;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::body::CacheBody;
use crate::clock::now_ms;
use crate::config::Shared;
use crate::directives::ResponseDirectives;
use crate::fetch::{Asked, Fetch, fetch};
use crate::flight::{Join, wait};
use crate::flow::{Found, credentials, lookup, usable};
use crate::respond::{from_entry, ttl_seconds};
use crate::status::{Fwd, Status};
use crate::store::Lease;
use crate::{CacheKey, Entry};

/// A trip to the origin for a variant, and whether it may be shared.
pub(crate) struct Miss {
    pub(crate) key: CacheKey,
    pub(crate) variant: String,
    pub(crate) fwd: Fwd,
    pub(crate) coalesce: bool,
    /// The stale entry to revalidate, if any.
    pub(crate) stale: Option<Entry>,
    /// What the request asked (read once, in the lookup).
    pub(crate) asked: Asked,
}

/// Nothing stored fits (or it must be revalidated): go to the origin,
/// once per variant when coalescing.
///
/// Not an `async fn`: a request that goes straight to the origin gets
/// the fetch's own future, and one that may wait for another request's
/// fill a boxed one. The future of the common way stays small, and so
/// cheap to create and move.
pub(crate) fn miss<S, ReqB, ResB>(
    shared: Arc<Shared>,
    inner: S,
    parts: Parts,
    body: ReqB,
    miss: Miss,
) -> impl Future<Output = Result<Response<CacheBody<ResB>>, S::Error>> + Send + use<S, ReqB, ResB>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    let Miss {
        key,
        variant,
        fwd,
        coalesce,
        stale,
        asked,
    } = miss;
    let flight_key = crate::key::joined(key.digest(), &variant);
    let hit_for_miss = if coalesce {
        shared.flights.hit_for_miss_until(&flight_key, now_ms())
    } else {
        None
    };
    // A variant marked hit-for-miss goes to the origin without waiting.
    let flight_key_to_join = (coalesce && hit_for_miss.is_none()).then(|| flight_key.clone());
    let mut job = Fetch {
        shared,
        key,
        variant,
        stale,
        fwd,
        collapsed_leader: std::sync::Mutex::new(None),
        lease: None,
        hit_for_miss,
        flight_key,
        asked,
    };
    let Some(flight_key) = flight_key_to_join else {
        job.shared.count("miss");
        return Either::Left(fetch(job, inner, parts, body));
    };
    Either::Right(Box::pin(async move {
        let shared = Arc::clone(&job.shared);
        if let Some(response) = coalesce_with_others(&shared, &mut job, flight_key, &parts).await {
            return Ok(response);
        }
        shared.count("miss");
        fetch(job, inner, parts, body).await
    }))
}

/// Joins the variant's flight: as a waiter, the leader's fill when it is
/// there and fresh; as the leader, the store's lease (or another
/// instance's fill). `None`: this request goes to the origin.
async fn coalesce_with_others<B>(
    shared: &Shared,
    job: &mut Fetch,
    flight_key: String,
    parts: &Parts,
) -> Option<Response<CacheBody<B>>> {
    match shared.flights.join(flight_key) {
        Join::Waiter(rx) => {
            wait(rx, shared.collapse_timeout).await;
            if let Some(response) = collapsed_hit(shared, &job.key, parts).await {
                return Some(response);
            }
        }
        Join::Leader(leader) => {
            job.collapsed_leader = std::sync::Mutex::new(Some(leader));
            for _ in 0..2 {
                match shared
                    .timed(
                        shared
                            .store
                            .lease(&job.key, &job.variant, shared.collapse_timeout),
                    )
                    .await
                {
                    Ok(Lease::Acquired(token)) => {
                        job.lease = Some(token);
                        break;
                    }
                    Ok(Lease::Unshared) => break,
                    Ok(Lease::Held) => {
                        shared
                            .store
                            .wait(&job.key, &job.variant, shared.collapse_timeout)
                            .await;
                        if let Some(response) = collapsed_hit(shared, &job.key, parts).await {
                            return Some(response);
                        }
                    }
                    Err(error) => {
                        shared.store_failed(&error);
                        break;
                    }
                }
            }
        }
    }
    None
}

/// After waiting on another request's fill: its stored response, when
/// it is there and fresh.
async fn collapsed_hit<B>(
    shared: &Shared,
    key: &CacheKey,
    parts: &Parts,
) -> Option<Response<CacheBody<B>>> {
    let (authorization, cookie) = credentials(shared, parts);
    let Found { lookup, .. } = lookup(shared, key, parts).await.ok()?;
    let entry = lookup
        .entry
        .filter(|e| usable(e, parts, authorization, cookie))?;
    let age = entry.age_at(now_ms());
    let soft = lookup
        .soft_purged_at
        .is_some_and(|at| at >= entry.response_time);
    if soft || age >= entry.lifetime || ResponseDirectives::parse(&entry.headers).no_cache {
        return None;
    }
    shared.count("collapsed");
    let status = Status {
        collapsed: true,
        ..Status::hit(ttl_seconds(entry.lifetime, age))
    };
    Some(from_entry(
        shared,
        entry,
        &parts.headers,
        &parts.method,
        age,
        &status,
    ))
}

/// Serves nothing: refreshes a stale entry in the background, once per
/// variant (in process, and across instances through the store's lease).
#[allow(clippy::too_many_arguments)]
pub(crate) fn refresh_in_background<S, ReqB, ResB>(
    shared: Arc<Shared>,
    inner: S,
    parts: Parts,
    body: ReqB,
    key: CacheKey,
    variant: String,
    entry: Entry,
) where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    let flight_key = crate::key::joined(key.digest(), &variant);
    let asked = Asked::of(&shared, &parts);
    let Join::Leader(leader) = shared.flights.join(flight_key.clone()) else {
        return;
    };
    tokio::spawn(async move {
        let lease = match shared
            .timed(shared.store.lease(&key, &variant, shared.collapse_timeout))
            .await
        {
            Ok(Lease::Acquired(token)) => Some(token),
            Ok(Lease::Unshared) => None,
            Ok(Lease::Held) => return,
            Err(error) => {
                shared.store_failed(&error);
                return;
            }
        };
        let job = Fetch {
            shared,
            key,
            variant,
            stale: Some(entry),
            fwd: Fwd::Stale,
            collapsed_leader: std::sync::Mutex::new(Some(leader)),
            lease,
            hit_for_miss: None,
            flight_key,
            asked,
        };
        if let Ok(response) = fetch(job, inner, parts, body).await {
            // Drain the body so the tee stores it.
            let mut body = std::pin::pin!(response.into_body());
            while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
                if frame.is_err() {
                    break;
                }
            }
        }
    });
}
