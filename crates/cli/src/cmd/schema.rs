//! `ccsqm schema`: the JSON Schema of the request, the response or a call (`ccsqm-models`).

use std::io::Write;

use anyhow::Result;

/// Which schema `ccsqm schema` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Request,
    Response,
    Call,
}

/// `ccsqm schema`: the schema, pretty-printed, on stdout.
pub fn run(which: SchemaKind) -> Result<()> {
    let schema = match which {
        SchemaKind::Request => ccsqm_models::request_schema(),
        SchemaKind::Response => ccsqm_models::response_schema(),
        SchemaKind::Call => ccsqm_models::call_schema(),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &schema)?;
    writeln!(out)?;
    Ok(())
}
