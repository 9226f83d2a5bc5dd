//! Where each operation of the spec is a `ccsqm` command.
//!
//! The spec-first promise: [`command_of`] matches every operation progenitor generated from
//! `spec/ccsqm.yaml` (`CliCommand`), with no `_` arm. An operation added to the spec makes the
//! match non-exhaustive after `cargo xtask codegen`, so the build fails until the operation is
//! given a command here (a test checks that each named command exists).

use crate::generated::CliCommand;

/// The `ccsqm` subcommand that runs an operation of the spec.
pub fn command_of(operation: CliCommand) -> &'static str {
    match operation {
        CliCommand::AppraisecallDetails => "details",
        CliCommand::TokenByAkSk => "token",
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_operation_of_the_spec_has_a_command() {
        let cli = crate::args::Cli::command();
        for operation in CliCommand::iter() {
            let name = command_of(operation);
            assert!(
                cli.find_subcommand(name).is_some(),
                "{} is placed as `ccsqm {name}`, which does not exist",
                operation.operation_id()
            );
        }
    }
}
