//! Where each operation of the spec is a `ccsqm` command.
//!
//! [`command_of`] matches every operation of `spec/ccsqm.yaml` (the generated
//! `ccsqm_client::spec::Operation`), with no `_` arm. An operation added to the spec makes the
//! match non-exhaustive after `cargo xtask codegen`, and the build fails here ("non-exhaustive
//! patterns: `Operation::NewOperation` not covered") until a person decides: a dedicated
//! command (`Some("name")`, written in `args.rs` and `main.rs`), or none (`None`: the operation
//! is called through `ccsqm api <operationId>`, which needs nothing more).

use ccsqm_client::spec::{Operation, Schema};

/// The request body of `ccsqm details`, whose fields are its flags.
pub const DETAILS_REQUEST: &Schema = match Operation::AppraisecallDetails.info().body {
    Some(body) => body,
    None => panic!("appraisecall_details has a JSON request body in spec/ccsqm.yaml"),
};

/// The dedicated `ccsqm` subcommand of an operation of the spec, if it has one; every operation
/// is also `ccsqm api <operationId>`.
pub fn command_of(operation: Operation) -> Option<&'static str> {
    // A new operation of the spec lands here: give it a command, or `None` for `ccsqm api` only.
    match operation {
        Operation::AppraisecallDetails => Some("details"),
        Operation::TokenByAkSk => Some("token"),
        Operation::AppraisecallDetail => Some("transcript"),
    }
}
