//! Going to the origin: revalidating a stale entry, freshening it from a
//! `304`, `stale-if-error`, and teeing a storable response into the store.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{DATE, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use tower_service::Service;

use crate::body::{CacheBody, Fill, FillEnd};
use crate::clock::{ms_at, now_ms};
use crate::conditional::{freshen, validators};
use crate::config::Shared;
use crate::directives::{RequestDirectives, ResponseDirectives};
use crate::flight::Leader;
use crate::policy::{
    MAX_TAG_LEN, MAX_TAGS, NotStored, RequestFacts, http_date, storable, stored_headers,
};
use crate::respond::{finish, from_entry};
use crate::status::{Fwd, Status};
use crate::{CacheKey, Entry};

/// One trip to the origin and what it may fill.
pub(crate) struct Fetch {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: CacheKey,
    pub(crate) variant: String,
    /// The stale entry being revalidated.
    pub(crate) stale: Option<Entry>,
    pub(crate) fwd: Fwd,
    /// Held while this fetch fills the variant for waiting requests.
    pub(crate) collapsed_leader: std::sync::Mutex<Option<Leader>>,
    /// The store's lease, released once filled.
    pub(crate) lease: Option<u64>,
    /// The variant's hit-for-miss mark when the request started (see
    /// [`Flights::mark_hit_for_miss`](crate::flight::Flights::mark_hit_for_miss)).
    pub(crate) hit_for_miss: Option<u64>,
    /// The variant's key among the flights (see [`crate::key::joined`]).
    pub(crate) flight_key: String,
    pub(crate) asked: Asked,
}

/// What a request asks of the cache beyond its URL, read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub(crate) authorization: bool,
    pub(crate) cookie: bool,
    /// The request's `stale-if-error`, in seconds.
    pub(crate) stale_if_error: Option<u64>,
}

impl Asked {
    pub(crate) fn of(shared: &Shared, parts: &Parts) -> Self {
        let (authorization, cookie) = crate::flow::credentials(shared, parts);
        Self {
            authorization,
            cookie,
            stale_if_error: RequestDirectives::parse(&parts.headers).stale_if_error(),
        }
    }
}

impl Fetch {
    /// Ends the fill: releases the lease (waking other instances) and the
    /// in-process flight (waking waiters).
    fn done(&self) {
        // Waiters in this process read the store now.
        drop(self.collapsed_leader.lock().map(|mut l| l.take()));
        if let Some(token) = self.lease {
            let shared = Arc::clone(&self.shared);
            let (key, variant) = (self.key.clone(), self.variant.clone());
            tokio::spawn(async move {
                let _ = shared
                    .timed(shared.store.release(&key, &variant, token))
                    .await;
            });
        }
    }
}

fn tags(headers: &http::HeaderMap, name: &http::HeaderName) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in headers.get_all(name) {
        let Ok(value) = value.to_str() else { continue };
        for tag in value.split_ascii_whitespace() {
            if tag.len() <= MAX_TAG_LEN && out.len() < MAX_TAGS && !out.iter().any(|t| t == tag) {
                out.push(tag.to_owned());
            }
        }
    }
    out
}

/// How long a store keeps an entry: until it can no longer be served
/// fresh, stale (its allowances) or revalidated (`keep_stale`).
fn storage_ttl(entry: &Entry, keep_stale: Duration) -> Duration {
    let d = ResponseDirectives::parse(&entry.headers);
    let stale = d
        .stale_while_revalidate()
        .max(d.stale_if_error())
        .unwrap_or(0);
    let keep = if validators(&entry.headers).is_empty() {
        0
    } else {
        u64::try_from(keep_stale.as_millis()).unwrap_or(u64::MAX)
    };
    Duration::from_millis(
        entry
            .lifetime
            .saturating_sub(entry.initial_age)
            .saturating_add(stale.saturating_mul(1000))
            .saturating_add(keep),
    )
}

/// What a fetch keeps of the request while the origin answers.
struct Sent {
    method: Method,
    /// The client's headers (before the validators of a revalidation).
    headers: http::HeaderMap,
    facts: RequestFacts,
    request_sie: Option<u64>,
}

/// Sends the request to the origin and answers from its response.
///
/// Not an `async fn`: the request is prepared and handed to `inner` here,
/// so the future holds only what the answer needs (not the service, the
/// request parts or a second copy of its arguments), and the rare way
/// that awaits the store after the origin (a `304` freshening a stale
/// entry) is boxed. The future of every request that misses stays small.
pub(crate) fn fetch<S, ReqB, ResB>(
    job: Fetch,
    mut inner: S,
    mut parts: Parts,
    body: ReqB,
) -> impl Future<Output = Result<Response<CacheBody<ResB>>, S::Error>> + Send + use<S, ReqB, ResB>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    let method = parts.method.clone();
    let headers = parts.headers.clone();
    if let Some(stale) = &job.stale {
        parts.headers.remove(IF_NONE_MATCH);
        parts.headers.remove(IF_MODIFIED_SINCE);
        for (name, value) in validators(&stale.headers) {
            parts.headers.insert(name, value);
        }
    }
    let Asked {
        authorization,
        cookie,
        stale_if_error: request_sie,
    } = job.asked;
    // One clock read each side of the origin, for its duration and for the
    // request and response times.
    let started = tokio::time::Instant::now();
    let facts = RequestFacts {
        get: method == Method::GET,
        authorization,
        cookie,
        request_time: ms_at(started),
    };
    let call = inner.call(Request::from_parts(parts, body));
    async move {
        let result = call.await;
        let ended = tokio::time::Instant::now();
        job.shared
            .origin_duration(ended.saturating_duration_since(started));
        let response_time = ms_at(ended);
        let sent = Sent {
            method,
            headers,
            facts,
            request_sie,
        };
        match answer(job, sent, result, response_time) {
            Answer::Now(result) => result,
            Answer::Freshen(freshen) => Ok(freshen.await),
        }
    }
}

enum Answer<B, E> {
    Now(Result<Response<CacheBody<B>>, E>),
    /// A `304` for a stale entry: freshen it in the store, then answer.
    Freshen(Pin<Box<dyn Future<Output = Response<CacheBody<B>>> + Send>>),
}

/// The answer from the origin's `result`, with nothing to await but a
/// `304`'s store write.
fn answer<B, E>(
    mut job: Fetch,
    sent: Sent,
    result: Result<Response<B>, E>,
    response_time: u64,
) -> Answer<B, E>
where
    B: Body<Data = Bytes> + Send + 'static,
{
    let shared = Arc::clone(&job.shared);
    let Sent {
        method,
        headers: request_headers,
        facts,
        request_sie,
    } = sent;
    let client_headers = job.stale.as_ref().map(|_| &request_headers);

    // stale-if-error: the origin failed or answered 5xx.
    let failed = result.as_ref().map_or(Some(None), |r| {
        r.status()
            .is_server_error()
            .then_some(Some(r.status().as_u16()))
    });
    if let (Some(fwd_status), Some(stale), Some(client)) = (failed, &job.stale, &client_headers) {
        let d = ResponseDirectives::parse(&stale.headers);
        let allowance = d
            .stale_if_error()
            .or(request_sie.filter(|_| !d.forbids_stale()));
        let staleness = stale.age_at(response_time).saturating_sub(stale.lifetime);
        if allowance.is_some_and(|s| staleness <= s.saturating_mul(1000)) {
            shared.count("stale");
            let age = stale.age_at(response_time);
            let status = Status {
                fwd_status,
                ..Status::fwd(job.fwd).detail("stale-if-error")
            };
            let status = Status {
                ttl: Some(crate::respond::ttl_seconds(stale.lifetime, age)),
                ..status
            };
            return Answer::Now(Ok(from_entry(
                &shared,
                stale.clone(),
                client,
                &method,
                age,
                &status,
            )));
        }
    }
    let response = match result {
        Ok(response) => response,
        Err(error) => return Answer::Now(Err(error)),
    };
    let status_code = response.status();

    if status_code == StatusCode::NOT_MODIFIED
        && let Some(stale) = job.stale.take()
    {
        return Answer::Freshen(Box::pin(freshen_stale(
            job,
            stale,
            response,
            request_headers,
            method,
            facts,
            response_time,
        )));
    }
    let mut status = Status {
        fwd_status: Some(status_code.as_u16()),
        ..Status::fwd(job.fwd)
    };
    match storable(
        facts,
        status_code,
        response.headers(),
        response_time,
        &shared.limits,
    ) {
        Ok(s) => {
            let mut strip: Vec<&str> = s.strip.iter().map(String::as_str).collect();
            strip.push(shared.tag_header.as_str());
            let mut headers = stored_headers(response.headers(), &strip);
            if !headers.contains_key(DATE)
                && let Ok(date) = HeaderValue::from_str(&http_date(response_time))
            {
                headers.insert(DATE, date);
            }
            let head = Entry {
                status: status_code,
                headers,
                body: Bytes::new(),
                response_time,
                initial_age: s.initial_age,
                lifetime: s.lifetime,
                vary: s.vary,
                tags: tags(response.headers(), &shared.tag_header),
            };
            let ttl = storage_ttl(&head, shared.keep_stale);
            let store_variant = crate::key::variant(&head.vary, &request_headers);
            if ttl.is_zero() {
                return Answer::Now(Ok(not_stored(job, response, &status.detail("stale"))));
            }
            shared.flights.clear_hit_for_miss(&job.flight_key);
            status.stored = true;
            let job = Arc::new(job);
            let fill = Fill::new(move |end| match end {
                FillEnd::Complete(bytes) => {
                    let mut put = Box::pin(async move {
                        let len = bytes.len();
                        let entry = Entry {
                            body: bytes,
                            ..head
                        };
                        match job
                            .shared
                            .timed(job.shared.store.put(&job.key, &store_variant, entry, ttl))
                            .await
                        {
                            Ok(()) => job.shared.stored_bytes(len),
                            Err(error) => job.shared.store_failed(&error),
                        }
                        job.done();
                    });
                    // A store that answers at once (memory) is written before
                    // the body's end reaches the client; others finish in a task.
                    if futures_util::FutureExt::now_or_never(&mut put).is_none() {
                        tokio::spawn(put);
                    }
                }
                FillEnd::TooLarge => {
                    job.shared.flights.mark_hit_for_miss(
                        &job.flight_key,
                        job.hit_for_miss,
                        now_ms(),
                    );
                    job.done();
                }
                FillEnd::Aborted => job.done(),
            });
            let response =
                response.map(|b| CacheBody::tee(b, shared.limits.max_object_bytes, fill));
            Answer::Now(Ok(finish(&shared, response, &status)))
        }
        Err(reason) => {
            if !matches!(
                reason,
                NotStored::Method | NotStored::Cookie | NotStored::Authorization
            ) {
                shared
                    .flights
                    .mark_hit_for_miss(&job.flight_key, job.hit_for_miss, response_time);
            }
            Answer::Now(Ok(not_stored(
                job,
                response,
                &status.detail(reason.detail()),
            )))
        }
    }
}

/// A `304` for the `stale` entry `job` revalidated: the entry freshened
/// from it, stored again, and served.
async fn freshen_stale<B>(
    job: Fetch,
    stale: Entry,
    response: Response<B>,
    client: http::HeaderMap,
    method: Method,
    facts: RequestFacts,
    response_time: u64,
) -> Response<CacheBody<B>> {
    let shared = Arc::clone(&job.shared);
    let mut entry = stale.clone();
    freshen(
        &mut entry.headers,
        &stored_headers(response.headers(), &[shared.tag_header.as_str()]),
    );
    if !response.headers().contains_key(DATE)
        && let Ok(date) = HeaderValue::from_str(&http_date(response_time))
    {
        entry.headers.insert(DATE, date);
    }
    let status = Status {
        fwd_status: Some(304),
        ..Status::fwd(job.fwd)
    };
    match storable(
        facts,
        entry.status,
        &entry.headers,
        response_time,
        &shared.limits,
    ) {
        Ok(s) => {
            entry.lifetime = s.lifetime;
            entry.initial_age = s.initial_age;
            entry.response_time = response_time;
            entry.tags = tags(response.headers(), &shared.tag_header);
            if entry.tags.is_empty() {
                entry.tags = stale.tags.clone();
            }
            let ttl = storage_ttl(&entry, shared.keep_stale);
            if let Err(error) = shared
                .timed(shared.store.put(&job.key, &job.variant, entry.clone(), ttl))
                .await
            {
                shared.store_failed(&error);
            }
        }
        Err(_) => {
            let _ = shared.timed(shared.store.purge(&job.key)).await;
        }
    }
    shared.count("revalidated");
    job.done();
    let age = entry.age_at(now_ms());
    let status = Status {
        ttl: Some(crate::respond::ttl_seconds(entry.lifetime, age)),
        stored: true,
        ..status
    };
    from_entry(&shared, entry, &client, &method, age, &status)
}

fn not_stored<B>(job: Fetch, response: Response<B>, status: &Status) -> Response<CacheBody<B>> {
    job.done();
    let Fetch { shared, .. } = job;
    finish(&shared, response.map(CacheBody::inner), status)
}
