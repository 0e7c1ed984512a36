//! The command line.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Operate a strata service's shared state: purge the response cache,
/// revoke sessions, reset rate limits, probe health.
///
/// Against Redis (REDIS_URL) through each crate's admin API, or against a
/// running service's admin listener with --service.
#[derive(Debug, Parser)]
#[command(name = "strata", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Settings every command reads.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Redis (or Redis Cluster) URL of the service's stores.
    #[arg(
        long,
        env = "REDIS_URL",
        global = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub(crate) redis_url: String,
    /// Key prefix of the response cache (strata-cache's default).
    #[arg(
        long,
        env = "STRATA_CACHE_PREFIX",
        global = true,
        default_value = "strata:cache:"
    )]
    pub(crate) cache_prefix: String,
    /// Key prefix of the sessions (strata-session's default).
    #[arg(
        long,
        env = "STRATA_SESSION_PREFIX",
        global = true,
        default_value = "strata:session:"
    )]
    pub(crate) session_prefix: String,
    /// Key prefix of the rate limits (strata-rate-limit's default).
    #[arg(
        long,
        env = "STRATA_RATE_LIMIT_PREFIX",
        global = true,
        default_value = "strata:rl:"
    )]
    pub(crate) rate_limit_prefix: String,
    /// The capped stream destructive commands append an audit entry to.
    #[arg(
        long,
        env = "STRATA_AUDIT_STREAM",
        global = true,
        default_value = "strata:audit"
    )]
    pub(crate) audit_stream: String,
    /// Act through a running service's admin listener (http://127.0.0.1:PORT)
    /// instead of Redis.
    #[arg(long, env = "STRATA_SERVICE", global = true)]
    pub(crate) service: Option<String>,
    /// Bearer token of the admin listener.
    #[arg(
        long,
        env = "STRATA_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub(crate) token: Option<String>,
    /// How long connecting to Redis or the service, and each command, may take.
    #[arg(long, global = true, default_value = "5s", value_parser = duration)]
    pub(crate) connect_timeout: Duration,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The command line as the audit stream records it (`--token` hidden).
    #[arg(skip)]
    pub(crate) command_line: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The response cache (strata-cache).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Sessions (strata-session).
    #[command(subcommand)]
    Session(SessionCommand),
    /// Rate limits (strata-rate-limit).
    #[command(subcommand, name = "ratelimit")]
    RateLimit(RateLimitCommand),
    /// Probe a health endpoint: exit 0 pass, 1 warn, 2 fail or unreachable.
    Health {
        /// The endpoint, e.g. http://127.0.0.1:8080/health/detailed.
        url: String,
        /// Give up (exit 2) after this long.
        #[arg(long, default_value = "5s", value_parser = duration)]
        timeout: Duration,
    },
}

/// Shared by destructive commands.
#[derive(Debug, Args)]
pub(crate) struct Destructive {
    /// Only count what would be touched; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

/// `strata cache ...`
#[derive(Debug, Subcommand)]
pub(crate) enum CacheCommand {
    /// Purge every resource carrying a tag, or the resource of a URL.
    Purge {
        /// The tag (from the responses' tag header).
        #[arg(long, conflicts_with = "url", required_unless_present = "url")]
        tag: Option<String>,
        /// An absolute URL, as a GET of it is cached.
        #[arg(long)]
        url: Option<String>,
        /// Mark stale (revalidated on next use) instead of removing.
        #[arg(long)]
        soft: bool,
        #[command(flatten)]
        destructive: Destructive,
    },
    /// Count what the cache holds.
    Stats,
}

/// `strata session ...`
#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// A user's live sessions.
    List {
        /// The user id the service signed in.
        user: String,
    },
    /// Revoke one session of a user, or all of them.
    Revoke {
        /// The user id.
        user: String,
        /// Every session of the user.
        #[arg(long, conflicts_with = "id", required_unless_present = "id")]
        all: bool,
        /// One session, by the record id `session list` prints (base64url:
        /// it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        id: Option<String>,
        #[command(flatten)]
        destructive: Destructive,
    },
}

/// `strata ratelimit ...`
#[derive(Debug, Subcommand)]
pub(crate) enum RateLimitCommand {
    /// A key's state: remaining, time until full, Retry-After.
    Show {
        /// `ip:<address>`, `global`, or any other text key.
        key: String,
        /// The policy name.
        #[arg(long)]
        policy: Option<String>,
        /// The policy's quota, as the service configures it: `60/min`,
        /// `5/s`, `1000/h`, `100/d`, optionally `,burst=N` (against Redis).
        #[arg(long)]
        quota: Option<String>,
    },
    /// Give a key its whole quota back (one policy, or every policy).
    Reset {
        /// `ip:<address>`, `global`, or any other text key.
        key: String,
        /// Only this policy.
        #[arg(long)]
        policy: Option<String>,
        #[command(flatten)]
        destructive: Destructive,
    },
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("bad duration {text:?}: {e} (e.g. 5s, 500ms)"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn a_record_id_may_start_with_a_hyphen() {
        let cli = Cli::try_parse_from([
            "strata",
            "session",
            "revoke",
            "alice",
            "--id",
            "-1aZ_b2cD3eF4gH5iJ6kL7",
            "--yes",
        ])
        .expect("parses");
        match cli.command {
            Command::Session(SessionCommand::Revoke { user, id, all, .. }) => {
                assert_eq!(user, "alice");
                assert_eq!(id.as_deref(), Some("-1aZ_b2cD3eF4gH5iJ6kL7"));
                assert!(!all);
            }
            other => panic!("{other:?}"),
        }
    }
}
