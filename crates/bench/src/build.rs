//! Section 9, build: the clean debug build of a minimal consumer of `ccsqm-client` with its
//! light features (`rustls-ring` + `webpki-roots`, no `schemars`) against a minimal consumer of
//! plain reqwest 0.13 with the same TLS (rustls with ring, Mozilla's roots), each making one
//! request.
//!
//! Both crates are written to a temporary directory (deleted afterwards, also on failure), with
//! the workspace's `Cargo.lock` (the same versions of every dependency), fetched first (not
//! timed), then built once each with `cargo build --offline` into a target directory of their
//! own: wall time, and the crates compiled (the distinct packages of cargo's
//! `compiler-artifact` messages).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{measure, Run};
use crate::{secs, step, verdict, Summary};

/// The goal: the client's consumer within this factor of plain reqwest's clean build.
pub const GOAL: f64 = 1.3;

/// The features of the light build, as a consumer names them.
pub const LIGHT_FEATURES: &str = "\"rustls-ring\", \"webpki-roots\"";

/// No clean build may take longer (the machine is shared; a build under load is slow).
const BUILD_LIMIT: Duration = Duration::from_secs(1800);

pub struct Side {
    /// What it depends on, as its `Cargo.toml` says.
    pub what: String,
    pub run: Run,
    /// The packages compiled (names with versions), the consumer itself included.
    pub crates: BTreeSet<String>,
    /// Compiler artifacts (a build script and a library of one package count twice).
    pub artifacts: usize,
}

pub struct Build {
    pub reqwest: Side,
    pub client: Side,
    pub cargo: String,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(root: &Path) -> Result<Build, String> {
    let dir =
        TempDir(std::env::temp_dir().join(format!("ccsqm-build-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).map_err(|e| format!("{}: {e}", dir.0.display()))?;
    let lock = std::fs::read(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let client_path = root.join("crates/client");
    let client_dep = format!(
        "ccsqm-client = {{ path = {:?}, default-features = false, features = [{LIGHT_FEATURES}] }}",
        client_path.display().to_string()
    );
    let reqwest_deps = "reqwest = { version = \"0.13\", default-features = false, features = \
                        [\"json\", \"http2\", \"rustls-no-provider\"] }\n\
                        rustls = { version = \"0.23\", default-features = false, features = \
                        [\"std\", \"tls12\", \"ring\"] }\n\
                        webpki-root-certs = \"1\"\n\
                        serde_json = \"1\"";
    let tokio = "tokio = { version = \"1\", features = [\"rt\"] }";
    // Plain reqwest first, then the client: one clean build each.
    let reqwest = side(
        &dir.0,
        "plain-reqwest",
        &format!("{reqwest_deps}\n{tokio}\n"),
        REQWEST_MAIN,
        &lock,
    )?;
    let client = side(
        &dir.0,
        "light-client",
        &format!("{client_dep}\n{tokio}\n"),
        CLIENT_MAIN,
        &lock,
    )?;
    let cargo = Command::new(cargo_program())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok(Build {
        reqwest: Side {
            what: "reqwest 0.13 (`json`, `http2`, `rustls-no-provider`), rustls 0.23 with \
                   `ring`, webpki-root-certs, serde_json, tokio (`rt`)"
                .into(),
            ..reqwest
        },
        client: Side {
            what: format!(
                "ccsqm-client (`default-features = false, features = [{LIGHT_FEATURES}]`), \
                 tokio (`rt`)"
            ),
            ..client
        },
        cargo,
    })
}

fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Writes the crate `name` in `dir`, fetches its dependencies, and measures its clean build.
fn side(dir: &Path, name: &str, deps: &str, main: &str, lock: &[u8]) -> Result<Side, String> {
    let home = dir.join(name);
    let write = |path: PathBuf, contents: &[u8]| {
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
    };
    std::fs::create_dir_all(home.join("src")).map_err(|e| e.to_string())?;
    write(
        home.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[workspace]\n\n[dependencies]\n{deps}"
        )
        .as_bytes(),
    )?;
    write(home.join("src/main.rs"), main.as_bytes())?;
    write(home.join("Cargo.lock"), lock)?;
    let target = dir.join(format!("target-{name}"));
    let cargo = |args: &[&str]| {
        let mut command = Command::new(cargo_program());
        command
            .args(args)
            .current_dir(&home)
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_INCREMENTAL", "0")
            // No compiler cache: a clean build compiles everything.
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER");
        command
    };
    step(&format!(
        "build: fetching the dependencies of {name} (not timed)"
    ));
    let fetched = cargo(&["fetch", "--quiet"])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cargo fetch: {e}"))?;
    if !fetched.success() {
        eprintln!("    cargo fetch failed ({fetched}): building from what is already downloaded");
    }
    step(&format!("build: clean debug build of {name}"));
    let messages = dir.join(format!("{name}.json"));
    let out = File::create(&messages).map_err(|e| e.to_string())?;
    let run = measure(
        &cargo(&[
            "build",
            "--offline",
            "--message-format=json-render-diagnostics",
        ]),
        out.into(),
        BUILD_LIMIT,
    )?;
    let text = std::fs::read_to_string(&messages).map_err(|e| e.to_string())?;
    let mut crates = BTreeSet::new();
    let mut artifacts = 0;
    for line in text.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        artifacts += 1;
        if let Some(id) = message["package_id"].as_str() {
            crates.insert(package_name(id));
        }
    }
    if crates.is_empty() {
        return Err(format!("cargo build of {name} reported no compiled crate"));
    }
    eprintln!(
        "    {name}: {} s ({} s of CPU), {} crates ({artifacts} artifacts)",
        secs(run.wall),
        secs(run.cpu),
        crates.len()
    );
    // The build is measured; its target directory is large: removed at once.
    let _ = std::fs::remove_dir_all(&target);
    Ok(Side {
        what: String::new(),
        run,
        crates,
        artifacts,
    })
}

/// `name@version` of a package ID: `registry+https://...#name@1.2.3`, `path+file:///...#0.1.0`
/// (the name is the directory's), or the older `name 1.2.3 (source)`.
fn package_name(id: &str) -> String {
    if let Some((source, fragment)) = id.rsplit_once('#') {
        if fragment.contains('@') {
            return fragment.to_owned();
        }
        let dir = source.rsplit('/').next().unwrap_or(source);
        return format!("{dir}@{fragment}");
    }
    let mut words = id.split_whitespace();
    match (words.next(), words.next()) {
        (Some(name), Some(version)) => format!("{name}@{version}"),
        _ => id.to_owned(),
    }
}

const CLIENT_MAIN: &str = r#"//! One `appraisecall/details` page through ccsqm-client (the URL is the first argument).
use std::num::NonZeroU64;

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "https://127.0.0.1:9".to_owned());
    let client = ccsqm_client::Client::builder(&url)
        .bearer_token("token")
        .user_id("bench")
        .build()
        .expect("a client");
    let request = ccsqm_client::types::AppraisecallDetailsRequest::every_call(NonZeroU64::MIN);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match runtime.block_on(client.details_page(request)) {
        Ok(page) => println!("{} groups", page.data.len()),
        Err(e) => eprintln!("{e}"),
    }
}
"#;

const REQWEST_MAIN: &str = r#"//! One POST with a JSON body through plain reqwest, with rustls, ring and Mozilla's roots
//! (the URL is the first argument).
use std::sync::Arc;

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "https://127.0.0.1:9".to_owned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("a client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let body = serde_json::json!({"limit": 1, "page": 1});
    let answer = runtime.block_on(async {
        let response = http.post(&url).bearer_auth("token").json(&body).send().await?;
        response.json::<serde_json::Value>().await
    });
    match answer {
        Ok(page) => println!("{page}"),
        Err(e) => eprintln!("{e}"),
    }
}
"#;

pub fn markdown(w: &mut String, build: &Build, summary: &mut Summary) {
    let ratio = build.client.run.wall.as_secs_f64() / build.reqwest.run.wall.as_secs_f64();
    let cpu_ratio = build.client.run.cpu.as_secs_f64() / build.reqwest.run.cpu.as_secs_f64();
    let met = ratio <= GOAL;
    summary.row(
        "clean debug build of a minimal consumer: `ccsqm-client` (`rustls-ring`, \
         `webpki-roots`, no `schemars`) over plain reqwest with the same TLS",
        format!(
            "**{ratio:.2}×** ({} s over {} s; CPU time {cpu_ratio:.2}×; {} crates over {})",
            secs(build.client.run.wall),
            secs(build.reqwest.run.wall),
            build.client.crates.len(),
            build.reqwest.crates.len()
        ),
        &format!("≤ {GOAL}×: {}", verdict(met)),
    );
    let _ = writeln!(w, "## 9. Build of a minimal consumer\n");
    let _ = writeln!(
        w,
        "Two minimal binaries, each making one request, written to a temporary directory with \
         the workspace's `Cargo.lock` (the same versions), their dependencies fetched first, \
         then built once each from clean (`cargo build --offline`, debug, `CARGO_INCREMENTAL=0`, \
         a target directory of their own; {}). Crates are the distinct packages cargo compiled \
         (its `compiler-artifact` messages), the consumer included; build scripts count in the \
         artifacts. CPU time is cargo's and its compilers' (user + system, `wait4`): on a \
         machine shared with other builds it varies much less than the wall time, which \
         waits for the cores.\n",
        build.cargo
    );
    let _ = writeln!(
        w,
        "| consumer | depends on | crates compiled | artifacts | clean build | ratio | CPU time | ratio |"
    );
    let _ = writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, side, ratio, cpu) in [
        (
            "plain reqwest",
            &build.reqwest,
            "1.00× (baseline)".to_owned(),
            "1.00×".to_owned(),
        ),
        (
            "ccsqm-client, light",
            &build.client,
            format!("**{ratio:.2}×**"),
            format!("{cpu_ratio:.2}×"),
        ),
    ] {
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} s | {ratio} | {} s | {cpu} |",
            side.what,
            side.crates.len(),
            side.artifacts,
            secs(side.run.wall),
            secs(side.run.cpu)
        );
    }
    let only: Vec<&str> = build
        .client
        .crates
        .difference(&build.reqwest.crates)
        .map(String::as_str)
        .filter(|c| !c.starts_with("light-client@"))
        .collect();
    let _ = writeln!(
        w,
        "\nCompiled for the client only ({}): {}.\n",
        only.len(),
        only.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The client's consumer compiles every crate of plain reqwest's and more: a ratio under 1
    // can only be the machine's noise (other builds took the cores during the baseline).
    let superset = build
        .reqwest
        .crates
        .iter()
        .filter(|c| !c.starts_with("plain-reqwest@"))
        .all(|c| build.client.crates.contains(c));
    let noise = if superset && (ratio < 1.0 || cpu_ratio < 1.0) {
        " The client's consumer compiles every crate plain reqwest's does, and more: a ratio \
         under 1 is the noise of a shared machine, not a result; run it again on a quiet one."
    } else {
        ""
    };
    let _ = writeln!(
        w,
        "Target: the client's consumer within {GOAL}× plain reqwest's clean build: \
         **{ratio:.2}×** (CPU time {cpu_ratio:.2}×) — {}.{noise}\n",
        verdict(met)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn package_ids_name_the_package() {
        for (id, want) in [
            (
                "registry+https://github.com/rust-lang/crates.io-index#ring@0.17.14",
                "ring@0.17.14",
            ),
            (
                "path+file:///w/crates/client#ccsqm-client@0.1.0",
                "ccsqm-client@0.1.0",
            ),
            (
                "path+file:///tmp/x/light-client#0.0.0",
                "light-client@0.0.0",
            ),
            (
                "ring 0.17.14 (registry+https://github.com/rust-lang/crates.io-index)",
                "ring@0.17.14",
            ),
        ] {
            assert_eq!(super::package_name(id), want);
        }
    }
}
