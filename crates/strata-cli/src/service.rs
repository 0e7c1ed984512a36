//! The same commands through a running service's admin listener
//! (`--service`), as JSON requests to its `/admin/...` endpoints behind
//! the listener's bearer token.

use crate::args::{Command, Global};
use crate::fail::Fail;

pub(crate) async fn run(service: &str, global: &Global, command: &Command) -> Result<u8, Fail> {
    let _ = (service, global, command);
    Err(Fail::usage("--service is not available yet"))
}
