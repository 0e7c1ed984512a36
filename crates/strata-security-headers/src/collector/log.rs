//! The log event of an accepted request: one per request, however many
//! reports it carried, every client-supplied string escaped.

use std::fmt;

use super::report::{CspViolation, Disposition};
use crate::escape::Escaped;

/// Most reports of one request shown in its log event.
pub(crate) const LOG_SAMPLES: usize = 3;

/// Longest summary of one further sample in a log event, in characters.
const SAMPLE_CHARS: usize = 200;

/// Logs the violations of one request as one event: the first one's fields,
/// the count, and short summaries of up to `LOG_SAMPLES - 1` more. `warn`
/// when any was enforced (or did not say), else `info`.
pub(crate) fn violations(violations: &[CspViolation]) {
    let Some(first) = violations.first() else {
        return;
    };
    let count = violations.len();
    let enforced = violations
        .iter()
        .filter(|v| v.disposition != Some(Disposition::Report))
        .count();
    let disposition = first.disposition.map_or("unknown", Disposition::as_str);
    let more = More(&violations[1..]);
    macro_rules! log {
        ($level:ident) => {
            tracing::$level!(
                target: "strata_security_headers::csp",
                count,
                enforced,
                document_url = %Escaped::new(&first.document_url),
                blocked_url = %Escaped::new(&first.blocked_url),
                effective_directive = %Escaped::new(&first.effective_directive),
                disposition,
                source_file = first.source_file.as_deref().map(Escaped::new).map(tracing::field::display),
                line = first.line,
                column = first.column,
                sample = first.sample.as_deref().map(Escaped::new).map(tracing::field::display),
                user_agent = first.user_agent.as_deref().map(Escaped::new).map(tracing::field::display),
                more = (count > 1).then_some(tracing::field::display(&more)),
                "CSP violation"
            )
        };
    }
    if enforced > 0 {
        log!(warn);
    } else {
        log!(info);
    }
}

/// `directive blocked-url on document-url | ...` for the samples after the
/// first, each cut to `SAMPLE_CHARS`.
struct More<'a>(&'a [CspViolation]);

impl fmt::Display for More<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.iter().take(LOG_SAMPLES - 1);
        for (index, v) in shown.enumerate() {
            if index > 0 {
                f.write_str(" | ")?;
            }
            let summary = format!(
                "{} {} on {}",
                v.effective_directive, v.blocked_url, v.document_url
            );
            write!(f, "{}", Escaped::cut(&summary, SAMPLE_CHARS))?;
        }
        let hidden = self.0.len().saturating_sub(LOG_SAMPLES - 1);
        if hidden > 0 {
            write!(f, " | and {hidden} more")?;
        }
        Ok(())
    }
}
