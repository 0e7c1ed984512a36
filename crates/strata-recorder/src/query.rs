//! [`Query`] and [`Page`]: which recorded exchanges to list.

use std::time::Duration;

use serde::Serialize;

use crate::form;
use crate::record::Summary;

/// Default page size of a [`Query`]: 50.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page a [`Query`] returns: 500.
pub const MAX_PAGE: usize = 500;

/// A filter over recorded exchanges, newest first, one page at a time.
///
/// Every filter set must match. Pages follow each other through
/// [`Page::next`] given back as [`before`](Self::before).
///
/// ```
/// use std::time::Duration;
/// use strata_recorder::Query;
///
/// let slow_errors = Query::new()
///     .status_class(5)
///     .min_duration(Duration::from_millis(200))
///     .route("/items/{id}")
///     .limit(20);
/// assert_eq!(slow_errors.page_size(), 20);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Query {
    /// Started at or after, Unix milliseconds.
    pub from_ms: Option<u64>,
    /// Started before, Unix milliseconds.
    pub to_ms: Option<u64>,
    /// The route template, exactly.
    pub route: Option<String>,
    /// The method, exactly.
    pub method: Option<String>,
    /// The status class (`5` for 5xx).
    pub status_class: Option<u8>,
    /// At least this long.
    pub min_duration: Option<Duration>,
    /// The session, exactly.
    pub session: Option<String>,
    /// The user, exactly.
    pub user: Option<String>,
    /// Only exchanges older than this id (the cursor of the previous page).
    pub before: Option<String>,
    /// The page size (clamped to 1..=[`MAX_PAGE`], default [`DEFAULT_PAGE`]).
    pub limit: Option<usize>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: impl Into<$ty>) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
    ($(#[$doc:meta])* $name:ident = $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
}

impl Query {
    /// Every exchange, newest first, [`DEFAULT_PAGE`] at a time.
    pub fn new() -> Self {
        Self::default()
    }

    setter!(/// Started at or after `from_ms` (Unix milliseconds).
        from_ms = u64);
    setter!(/// Started before `to_ms` (Unix milliseconds).
        to_ms = u64);
    setter!(/// This route template.
        route: String);
    setter!(/// This method.
        method: String);
    setter!(/// This status class (1 to 5).
        status_class = u8);
    setter!(/// At least this long to the end of the response body.
        min_duration = Duration);
    setter!(/// This session.
        session: String);
    setter!(/// This user.
        user: String);
    setter!(/// Older than this id: the cursor [`Page::next`] gave.
        before: String);
    setter!(/// This many per page (clamped to 1..=[`MAX_PAGE`]).
        limit = usize);

    /// The page size this query asks for.
    pub fn page_size(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
    }

    /// Whether `summary` matches every filter but the time range and cursor
    /// (which the stores apply through the ids).
    pub fn matches(&self, summary: &Summary) -> bool {
        let eq = |want: &Option<String>, got: &Option<String>| {
            want.as_ref().is_none_or(|w| got.as_ref() == Some(w))
        };
        eq(&self.route, &summary.route)
            && self.method.as_ref().is_none_or(|m| *m == summary.method)
            && self
                .status_class
                .is_none_or(|c| summary.status.is_some_and(|s| s / 100 == u16::from(c)))
            && self
                .min_duration
                .is_none_or(|d| u128::from(summary.duration_us) >= d.as_micros())
            && eq(&self.session, &summary.session)
            && eq(&self.user, &summary.user)
            && self.from_ms.is_none_or(|f| summary.started_ms >= f)
            && self.to_ms.is_none_or(|t| summary.started_ms < t)
    }

    /// Parses the query string of the viewer's API: `from`, `to` (Unix
    /// ms), `route`, `method`, `status` (class), `min_ms`, `session`,
    /// `user`, `before`, `limit`. Unknown names are ignored.
    pub fn from_query_string(text: &str) -> Result<Self, String> {
        let mut query = Self::new();
        for (name, value) in form::pairs(text) {
            let value = form::decode(value.unwrap_or_default()).into_owned();
            if value.is_empty() {
                continue;
            }
            let number = |what: &str| {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("`{what}` is not a number"))
            };
            match &*form::decode(name) {
                "from" => query.from_ms = Some(number("from")?),
                "to" => query.to_ms = Some(number("to")?),
                "route" => query.route = Some(value),
                "method" => query.method = Some(value.to_ascii_uppercase()),
                "status" => {
                    let class = number("status")?;
                    let class = if class >= 100 { class / 100 } else { class };
                    query.status_class = u8::try_from(class).ok();
                }
                "min_ms" => query.min_duration = Some(Duration::from_millis(number("min_ms")?)),
                "session" => query.session = Some(value),
                "user" => query.user = Some(value),
                "before" => query.before = Some(value),
                "limit" => query.limit = usize::try_from(number("limit")?).ok(),
                _ => {}
            }
        }
        Ok(query)
    }
}

/// One page of a query's results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// Summaries, newest first.
    pub items: Vec<Summary>,
    /// The cursor of the next page ([`Query::before`]), `None` on the last.
    pub next: Option<String>,
}

impl Page {
    /// A page.
    pub fn new(items: Vec<Summary>, next: Option<String>) -> Self {
        Self { items, next }
    }
}
