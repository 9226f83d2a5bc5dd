//! `ccsqm sandbox`: the sandbox as a local server, until Ctrl-C (the server is
//! `ccsqm_sandbox::serve`'s; its flags are its own).

use anyhow::Result;
use ccsqm_sandbox::serve::ServeArgs;

use crate::error::UsageError;

/// `ccsqm sandbox`.
pub async fn run(args: &ServeArgs) -> Result<()> {
    args.check().map_err(UsageError)?;
    Ok(ccsqm_sandbox::serve::serve(args.clone()).await?)
}
