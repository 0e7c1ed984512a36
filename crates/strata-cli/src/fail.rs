//! One-line errors and the exit codes (documented in `docs/cli.md`).

use std::fmt;

/// Exit code of a check that passed with a warning (`strata health`).
pub(crate) const WARN: u8 = 1;
/// Exit code of a failure: a store or service unreachable or refusing,
/// an unknown tag or session, a failed health check.
pub(crate) const FAILURE: u8 = 2;
/// Exit code of a usage error (sysexits `EX_USAGE`): bad arguments, a bad
/// URL or duration, a destructive command without `--yes` off a terminal.
pub(crate) const USAGE: u8 = 64;

/// What went wrong, in one line, and the exit code it gets.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) code: u8,
    message: String,
}

impl Fail {
    pub(crate) fn failure(message: impl Into<String>) -> Self {
        Self {
            code: FAILURE,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: USAGE,
            message: message.into(),
        }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source said.
        f.write_str(&self.message.replace('\n', " "))
    }
}

/// `url` without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let auth = &url[scheme + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
