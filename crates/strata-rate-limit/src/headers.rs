//! The `RateLimit`, `RateLimit-Policy`, legacy `X-RateLimit-*` and
//! `Retry-After` response headers.

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use smallvec::SmallVec;

use crate::Policy;
use crate::decision::Evaluation;

/// Which rate-limit headers responses carry.
///
/// The IETF draft is still moving, so the flavour names its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeaderStyle {
    /// `draft-ietf-httpapi-ratelimit-headers-10`: RFC 9651 structured-field
    /// lists with one item per policy,
    /// `RateLimit-Policy: "<name>";q=<quota>;w=<window-seconds>` and
    /// `RateLimit: "<name>";r=<remaining>;t=<seconds-to-reset>`.
    #[default]
    Draft10,
    /// [`Draft10`](Self::Draft10) plus the legacy
    /// `X-RateLimit-Limit/Remaining/Reset` (of the tightest policy).
    Draft10AndLegacy,
    /// Only the legacy `X-RateLimit-Limit/Remaining/Reset`.
    Legacy,
    /// No rate-limit headers (`Retry-After` is still sent on 429).
    None,
}

static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Whole seconds, rounded up.
pub(crate) fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The parts of a rule's headers that never change, made when the layer is
/// built: the whole `RateLimit-Policy` value and each `"<name>";r=` prefix.
#[derive(Debug, Clone)]
pub(crate) struct RuleHeaders {
    policy: Option<HeaderValue>,
    prefixes: Vec<String>,
}

impl RuleHeaders {
    pub(crate) fn new(policies: &[Policy]) -> Self {
        let mut policy = String::new();
        for (i, p) in policies.iter().enumerate() {
            if i > 0 {
                policy.push_str(", ");
            }
            policy.push('"');
            policy.push_str(p.name());
            policy.push_str("\";q=");
            policy.push_str(itoa::Buffer::new().format(p.quota().count()));
            policy.push_str(";w=");
            policy.push_str(itoa::Buffer::new().format(p.quota().window_secs()));
        }
        Self {
            // Policy names are validated tokens, so this never fails.
            policy: HeaderValue::try_from(policy).ok(),
            prefixes: policies
                .iter()
                .map(|p| format!("\"{}\";r=", p.name()))
                .collect(),
        }
    }
}

/// Headers computed from a decision, added to the response later.
#[derive(Debug)]
pub(crate) enum Headers {
    /// The usual case, inline: `RateLimit-Policy` and `RateLimit`.
    Draft(HeaderValue, HeaderValue),
    /// Anything else (legacy headers, `Retry-After`), boxed: the response
    /// future stays small.
    Other(Box<RateHeaders>),
}

#[derive(Debug, Default)]
pub(crate) struct RateHeaders {
    draft: Option<(HeaderValue, HeaderValue)>,
    legacy: Option<[HeaderValue; 3]>,
    retry_after: Option<HeaderValue>,
}

impl Headers {
    pub(crate) fn new(
        style: HeaderStyle,
        rule: &RuleHeaders,
        policies: &[Policy],
        decision: &Evaluation,
        retry: bool,
    ) -> Option<Self> {
        if style == HeaderStyle::None && !retry {
            return None;
        }
        let draft = if matches!(style, HeaderStyle::Draft10 | HeaderStyle::Draft10AndLegacy)
            && let Some(policy) = &rule.policy
        {
            draft_state(rule, decision).map(|state| (policy.clone(), state))
        } else {
            None
        };
        if style == HeaderStyle::Draft10 && !retry {
            return draft.map(|(policy, state)| Self::Draft(policy, state));
        }
        let mut headers = RateHeaders {
            draft,
            ..RateHeaders::default()
        };
        if matches!(style, HeaderStyle::Legacy | HeaderStyle::Draft10AndLegacy)
            && let Some((i, s)) = decision.tightest()
            && let Some(policy) = policies.get(i)
        {
            headers.legacy = Some([
                HeaderValue::from(policy.quota().count()),
                HeaderValue::from(s.remaining),
                HeaderValue::from(ceil_secs(s.reset)),
            ]);
        }
        if retry {
            headers.retry_after = Some(retry_after(decision.retry_after()));
        }
        Some(Self::Other(Box::new(headers)))
    }

    /// Adds the headers. `RateLimit` and `RateLimit-Policy` are lists, so
    /// an inner layer's items are kept and ours appended; the legacy headers
    /// and `Retry-After` are set only when absent.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        let this = match self {
            Self::Draft(policy, state) => RateHeaders {
                draft: Some((policy, state)),
                ..RateHeaders::default()
            },
            Self::Other(boxed) => *boxed,
        };
        if let Some((policy, state)) = this.draft {
            headers.append(RATELIMIT_POLICY.clone(), policy);
            headers.append(RATELIMIT.clone(), state);
        }
        if let Some([limit, remaining, reset]) = this.legacy {
            for (name, value) in [
                (&X_LIMIT, limit),
                (&X_REMAINING, remaining),
                (&X_RESET, reset),
            ] {
                headers.entry(name.clone()).or_insert(value);
            }
        }
        if let Some(value) = this.retry_after {
            headers.entry(RETRY_AFTER).or_insert(value);
        }
    }
}

/// The `RateLimit` value, `"<name>";r=<remaining>;t=<reset>` per policy,
/// written on the stack and copied once into the value.
fn draft_state(rule: &RuleHeaders, decision: &Evaluation) -> Option<HeaderValue> {
    let mut buf: SmallVec<[u8; 128]> = SmallVec::new();
    for (i, (s, prefix)) in decision.states.iter().zip(&rule.prefixes).enumerate() {
        if i > 0 {
            buf.extend_from_slice(b", ");
        }
        buf.extend_from_slice(prefix.as_bytes());
        buf.extend_from_slice(itoa::Buffer::new().format(s.remaining).as_bytes());
        buf.extend_from_slice(b";t=");
        buf.extend_from_slice(itoa::Buffer::new().format(ceil_secs(s.reset)).as_bytes());
    }
    HeaderValue::from_bytes(&buf).ok()
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub(crate) fn retry_after(wait: Duration) -> HeaderValue {
    HeaderValue::from(ceil_secs(wait).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quota;

    #[test]
    fn rounds_up_and_never_below_one() {
        assert_eq!(retry_after(Duration::from_millis(1)), "1");
        assert_eq!(retry_after(Duration::ZERO), "1");
        assert_eq!(retry_after(Duration::from_millis(1001)), "2");
        assert_eq!(retry_after(Duration::from_secs(3)), "3");
        assert_eq!(ceil_secs(Duration::from_nanos(1)), 1);
    }

    #[test]
    fn policy_header_lists_every_policy() {
        let rule = RuleHeaders::new(&[
            Policy::new("a", Quota::per_second(10)),
            Policy::new("b", Quota::per_hour(1000)),
        ]);
        assert_eq!(
            rule.policy.as_ref().and_then(|v| v.to_str().ok()),
            Some(r#""a";q=10;w=1, "b";q=1000;w=3600"#)
        );
    }
}
