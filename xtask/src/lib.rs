//! The project's automation, as a library so that its tests can drive it.

pub mod api_diff;
pub mod bench;
pub mod codegen;
pub mod conformance;
pub mod drill;
pub mod facts;
pub mod feature_gates;
pub mod mocks;
pub mod spec_lint;
pub mod sql_schema;
pub mod test;
pub mod tools;

use std::path::{Path, PathBuf};

pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen          regenerate every generated file from spec/ccsqm.yaml
  codegen --check  regenerate in memory; fail with a diff if a committed file differs
  api-diff         the API's changes since the last release (spec/released/<version>.yaml),
                   breaking ones marked; fails on a breaking change without a breaking
                   version bump and a CHANGELOG.md section
  spec-lint        validate spec/ccsqm.yaml with openapi-spec-validator and Redocly CLI
                   (installed under target/spec-tools on first use)
  bench [--quick]  build release binaries and run the benchmarks (crates/bench): prints a
                   table and writes BENCHMARKS.md (--quick: smaller, to target/bench/)
  test [ARGS]      every test of the workspace (CONTRIBUTING.md's test command, CI's test step):
                   starts a throwaway PostgreSQL server (.ci/postgres.sh: installed from
                   Debian's packages when missing), runs `cargo test --workspace ARGS`, stops
                   the server; e.g. `cargo xtask test -p ccsqm-cli --test sync`
  spec-drill       apply four kinds of spec edit (a response field, a request filter, an
                   enumeration value, an operation) to a scratch copy, regenerate, build, and
                   check that each flows or fails loudly as docs/spec-first.md promises
  spec-loop        time the spec-first loop after a one-field edit (codegen and the incremental
                   debug build of ccsqm, on a scratch copy built once); used by `bench`
  conformance [ARGS]
                   run schemathesis (installed under target/spec-tools on first use) from
                   spec/ccsqm.yaml against a fresh ccsqm-sandbox; ARGS go to `schemathesis run`
                   (e.g. --seed N, --max-examples N)
";

/// The workspace root (the parent of this crate's folder).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
