//! What may be stored, for how long, and with which headers (RFC 9111 §3,
//! §4.2): pure functions of the request and response heads.

use std::time::SystemTime;

use http::header::{
    AGE, CONNECTION, CONTENT_LENGTH, DATE, EXPIRES, LAST_MODIFIED, SET_COOKIE, TRAILER,
    TRANSFER_ENCODING, UPGRADE, VARY,
};
use http::{HeaderMap, HeaderName, StatusCode};
use strata_core::headers::list;

use crate::clock::to_ms;
use crate::directives::ResponseDirectives;

/// Most tags kept from one response, and the longest tag kept.
pub(crate) const MAX_TAGS: usize = 64;
pub(crate) const MAX_TAG_LEN: usize = 256;

/// Why a response was not stored; the `detail` of its `Cache-Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotStored {
    Method,
    Status,
    NoStore,
    Private,
    Authorization,
    Cookie,
    SetCookie,
    VaryStar,
    VaryTooMany,
    NoFreshness,
    TooLarge,
}

impl NotStored {
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Self::Method => "method",
            Self::Status => "status",
            Self::NoStore => "no-store",
            Self::Private => "private",
            Self::Authorization => "authorization",
            Self::Cookie => "cookie",
            Self::SetCookie => "set-cookie",
            Self::VaryStar => "vary-star",
            Self::VaryTooMany => "vary-too-many",
            Self::NoFreshness => "no-freshness",
            Self::TooLarge => "too-large",
        }
    }
}

/// What the request contributes to the storage decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts {
    pub(crate) get: bool,
    pub(crate) authorization: bool,
    /// A `Cookie` that matters (no `ignore_cookies_when` predicate said otherwise).
    pub(crate) cookie: bool,
    /// When the request was sent on, ms since the epoch.
    pub(crate) request_time: u64,
}

/// The limits the decision applies.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_vary_fields: usize,
    pub(crate) max_object_bytes: usize,
    pub(crate) default_ttl: Option<u64>,
}

/// A response that may be stored.
#[derive(Debug, Clone)]
pub(crate) struct Storable {
    pub(crate) lifetime: u64,
    pub(crate) initial_age: u64,
    pub(crate) vary: Vec<HeaderName>,
    /// Fields named by `private="..."`: stored without them.
    pub(crate) strip: Vec<String>,
}

/// Statuses cacheable by heuristic freshness (RFC 9110 §15.1).
pub(crate) fn heuristically_cacheable(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

fn date(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let parsed = httpdate::parse_http_date(first.to_str().ok()?)
        .ok()
        .map(to_ms);
    // Two different values: none can be trusted.
    if values.any(|v| v != first) {
        return None;
    }
    parsed
}

/// The `Vary` field names: `Ok(None)` for `*` or a name that is not a
/// field name, `Err` past the cap.
pub(crate) fn vary_names(headers: &HeaderMap, max: usize) -> Result<Vec<HeaderName>, NotStored> {
    let mut names = Vec::new();
    for value in headers.get_all(VARY) {
        let Ok(value) = value.to_str() else {
            return Err(NotStored::VaryStar);
        };
        for item in list(value) {
            if item == "*" {
                return Err(NotStored::VaryStar);
            }
            let Ok(name) = HeaderName::from_bytes(item.as_bytes()) else {
                return Err(NotStored::VaryStar);
            };
            if !names.contains(&name) {
                if names.len() == max {
                    return Err(NotStored::VaryTooMany);
                }
                names.push(name);
            }
        }
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(names)
}

/// The freshness lifetime in ms (RFC 9111 §4.2.1, §4.2.2), or `None` when
/// the response has none (and so is not stored).
pub(crate) fn lifetime(
    d: &ResponseDirectives,
    headers: &HeaderMap,
    status: StatusCode,
    date_ms: u64,
    default_ttl: Option<u64>,
) -> Option<u64> {
    if let Some(s) = d.s_maxage() {
        return Some(s.saturating_mul(1000));
    }
    if let Some(s) = d.max_age() {
        return Some(s.saturating_mul(1000));
    }
    if headers.contains_key(EXPIRES) {
        // An invalid (or contradictory) Expires means already expired.
        return Some(date(headers, &EXPIRES).map_or(0, |e| e.saturating_sub(date_ms)));
    }
    if (heuristically_cacheable(status) || d.public)
        && let Some(modified) = date(headers, &LAST_MODIFIED).filter(|&m| m < date_ms)
    {
        return Some((date_ms - modified) / 10);
    }
    default_ttl
}

/// Decides whether a response may be stored, and computes its lifetime and
/// initial age (RFC 9111 §3, §3.5, §4.2.3).
pub(crate) fn storable(
    request: RequestFacts,
    status: StatusCode,
    headers: &HeaderMap,
    response_time: u64,
    limits: &Limits,
) -> Result<Storable, NotStored> {
    if !request.get {
        return Err(NotStored::Method);
    }
    if status.is_informational()
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Err(NotStored::Status);
    }
    let d = ResponseDirectives::parse(headers);
    if d.no_store {
        return Err(NotStored::NoStore);
    }
    if d.private {
        return Err(NotStored::Private);
    }
    if request.authorization && !(d.shareable() || d.must_revalidate) {
        return Err(NotStored::Authorization);
    }
    if request.cookie && !d.shareable() {
        return Err(NotStored::Cookie);
    }
    let strips_set_cookie = d.private_fields.iter().any(|f| f == "set-cookie");
    if headers.contains_key(SET_COOKIE) && !strips_set_cookie {
        return Err(NotStored::SetCookie);
    }
    let vary = vary_names(headers, limits.max_vary_fields)?;
    let too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|len| len > limits.max_object_bytes as u64);
    if too_large {
        return Err(NotStored::TooLarge);
    }
    let date_ms = date(headers, &DATE).unwrap_or(response_time);
    let lifetime =
        lifetime(&d, headers, status, date_ms, limits.default_ttl).ok_or(NotStored::NoFreshness)?;
    let age_value = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let apparent = response_time.saturating_sub(date_ms);
    let delay = response_time.saturating_sub(request.request_time);
    let initial_age = apparent.max(age_value.saturating_mul(1000).saturating_add(delay));
    Ok(Storable {
        lifetime,
        initial_age,
        vary,
        strip: d.private_fields,
    })
}

/// Hop-by-hop fields (RFC 9110 §7.6.1), never stored or served from the
/// cache.
const HOP_BY_HOP: [&str; 6] = [
    "keep-alive",
    "proxy-connection",
    "te",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-authentication-info",
];

/// The headers to store: without hop-by-hop fields, the fields the
/// `Connection` header names, `Age`, and the `extra` ones.
pub(crate) fn stored_headers(headers: &HeaderMap, extra: &[&str]) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(list)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        let drop = name == CONNECTION
            || name == TRANSFER_ENCODING
            || name == UPGRADE
            || name == TRAILER
            || name == AGE
            || HOP_BY_HOP.contains(&n)
            || named.iter().any(|c| c == n)
            || extra.iter().any(|e| e.eq_ignore_ascii_case(n));
        if !drop {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Now as an HTTP date, for a `Date` the origin did not send.
pub(crate) fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests;
