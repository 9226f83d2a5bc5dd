//! `cargo xtask`: the project's automation, run through the alias in `.cargo/config.toml`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => xtask::codegen::generate(&xtask::project_root(), false),
        ["codegen", "--check"] => xtask::codegen::generate(&xtask::project_root(), true),
        ["api-diff"] => xtask::api_diff::run(&xtask::project_root()),
        ["test", rest @ ..] => xtask::test::run(&xtask::project_root(), rest),
        ["bench", rest @ ..] => xtask::bench::run(&xtask::project_root(), rest),
        ["spec-drill"] => xtask::drill::run(&xtask::project_root()),
        ["spec-loop"] => xtask::drill::time_loop(&xtask::project_root()),
        ["spec-lint"] => xtask::spec_lint::run(&xtask::project_root()),
        ["conformance", extra @ ..] => xtask::conformance::run(&xtask::project_root(), extra),
        ["help" | "--help" | "-h"] | [] => {
            print!("{}", xtask::USAGE);
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("unknown arguments {args:?}\n\n{}", xtask::USAGE);
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
