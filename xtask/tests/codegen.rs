//! The drift check: it passes on the committed tree, and it fails on a changed spec.

use std::path::Path;

use xtask::codegen::{
    self, CLIENT_OUT, HTTPMOCK_OUT, MODELS_OUT, SANDBOX_OUT, SPEC, SPEC_OUT, SYNC_OUT,
};

/// Plain `cargo test` catches generated code that was not regenerated after a spec change.
#[test]
fn committed_generated_code_matches_the_spec() {
    let root = xtask::project_root();
    let outputs = codegen::render(&codegen::read_spec(&root).unwrap()).unwrap();
    let diff = codegen::drift(&root, &outputs).unwrap();
    assert!(
        diff.is_empty(),
        "generated code is out of date; run `cargo xtask codegen`:\n{diff}"
    );
}

#[test]
fn rendering_is_deterministic() {
    let spec = codegen::read_spec(&xtask::project_root()).unwrap();
    assert_eq!(
        codegen::render(&spec).unwrap(),
        codegen::render(&spec).unwrap()
    );
}

/// A copy of the tree whose spec gains a field: the check reports the drift as a diff naming
/// the new field and fails; after `codegen` writes, the check passes again.
#[test]
fn check_fails_on_a_changed_spec_and_codegen_fixes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = xtask::project_root();
    for rel in [
        SPEC,
        CLIENT_OUT,
        HTTPMOCK_OUT,
        SPEC_OUT,
        MODELS_OUT,
        SANDBOX_OUT,
        SYNC_OUT,
    ] {
        copy(&root, tmp.path(), rel);
    }
    codegen::generate(tmp.path(), true).expect("an unchanged copy has no drift");

    let spec = codegen::read_spec(tmp.path()).unwrap();
    let anchor =
        "        staff_name:\n          description: Agent name.\n          type: string\n";
    assert!(spec.contains(anchor), "the test's anchor is in the spec");
    let changed = spec.replacen(
        anchor,
        &format!("{anchor}        team_name:\n          description: Team of the agent.\n          type: string\n"),
        1,
    );
    std::fs::write(tmp.path().join(SPEC), changed).unwrap();

    let outputs = codegen::render(&codegen::read_spec(tmp.path()).unwrap()).unwrap();
    let diff = codegen::drift(tmp.path(), &outputs).unwrap();
    assert!(diff.contains(&format!("--- a/{CLIENT_OUT}")), "{diff}");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('+') && l.contains("team_name")),
        "{diff}"
    );
    let err = codegen::generate(tmp.path(), true).expect_err("the check must fail on drift");
    assert!(err.to_string().contains("cargo xtask codegen"), "{err}");

    codegen::generate(tmp.path(), false).unwrap();
    codegen::generate(tmp.path(), true).expect("regenerated code has no drift");
}

fn copy(from: &Path, to: &Path, rel: &str) {
    let target = to.join(rel);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(from.join(rel), target).unwrap();
}
