//! Where `ccsqm details` writes: stdout, or `--output-file`.
//!
//! What `--output-file PATH` does depends on what is at `PATH`, checked before any request:
//!
//! - a regular file, or nothing yet: the output goes to a temporary file in the same folder
//!   (`.ccsqm-*`), which replaces `PATH` by a rename only when the export is complete, so a
//!   failed or interrupted export leaves the previous file untouched. The new file keeps the
//!   replaced file's permission bits (and owner and group, where allowed); a new file gets
//!   `0666` less the umask, as any tool would create it. Other hard links to a replaced file
//!   keep the previous content (a note on stderr says so).
//! - a symbolic link: followed; the file it leads to is replaced as above (the link stays).
//! - a device, FIFO or socket (`/dev/null`, a named pipe), or the name of an open file
//!   descriptor (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`): opened and
//!   written directly (appending), never replaced.
//! - a directory, or a path whose folder does not exist: refused (exit 2).

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::UsageError;

/// How `--output-file` is written, decided before any request.
#[derive(Debug)]
pub enum Target {
    /// A regular file (after symbolic links) or a new path: a temporary file beside it,
    /// renamed over it on success.
    Replace {
        /// The file that is replaced (symbolic links followed).
        path: PathBuf,
        /// What is there now: its permission bits, owner, group and number of hard links.
        existing: Option<Existing>,
    },
    /// A device, FIFO, socket, or the name of a file descriptor: written directly.
    Direct(PathBuf),
}

/// What a replaced file keeps.
#[derive(Debug, Clone, Copy)]
pub struct Existing {
    mode: u32,
    uid: u32,
    gid: u32,
    links: u64,
}

/// The most symbolic links followed (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

impl Target {
    /// What writing to `path` means; refuses (exit 2) a directory or a missing folder.
    pub fn check(path: &Path) -> anyhow::Result<Target> {
        let usage = |why: String| anyhow::Error::new(UsageError(why));
        let shown = path.display();
        if path.as_os_str().is_empty() {
            return Err(usage("--output-file is empty".into()));
        }
        if is_descriptor(path) {
            return match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => {
                    Err(usage(format!("--output-file {shown} is a directory")))
                }
                _ => Ok(Target::Direct(path.to_owned())),
            };
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(usage(format!(
                "--output-file {shown} is a directory: name a file"
            ))),
            Ok(meta) if meta.is_file() => {
                let real = std::fs::canonicalize(path)
                    .map_err(|e| usage(format!("--output-file {shown}: {e}")))?;
                Ok(Target::Replace {
                    path: real,
                    existing: Some(Existing {
                        mode: meta.mode() & 0o777,
                        uid: meta.uid(),
                        gid: meta.gid(),
                        links: meta.nlink(),
                    }),
                })
            }
            Ok(_) => Ok(Target::Direct(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Nothing there, or a symbolic link to nothing: the file it names is created.
                let path =
                    follow_links(path).map_err(|e| usage(format!("--output-file {shown}: {e}")))?;
                let dir = folder(&path);
                match std::fs::metadata(dir) {
                    Ok(meta) if meta.is_dir() => Ok(Target::Replace {
                        path,
                        existing: None,
                    }),
                    Ok(_) => Err(usage(format!(
                        "--output-file {shown}: {} is not a directory",
                        dir.display()
                    ))),
                    Err(e) => Err(usage(format!(
                        "--output-file {shown}: its folder {}: {e}",
                        dir.display()
                    ))),
                }
            }
            Err(e) => Err(usage(format!("--output-file {shown}: {e}"))),
        }
    }
}

/// A name of an open file descriptor: `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
/// `/proc/self/fd/N`, `/proc/PID/fd/N`. Whatever it leads to (a pipe, a terminal, the file a
/// shell redirected to) is written through the descriptor, never replaced.
fn is_descriptor(path: &Path) -> bool {
    if !path.starts_with("/") {
        return false;
    }
    let parts: Vec<_> = path.components().map(|c| c.as_os_str()).collect();
    let text = |i: usize| parts.get(i).and_then(|p| p.to_str());
    match (text(1), text(2), text(3)) {
        (Some("dev"), Some("stdout" | "stderr" | "stdin"), None) => parts.len() == 3,
        (Some("dev"), Some("fd"), Some(_)) => parts.len() == 4,
        (Some("proc"), Some(_), Some("fd")) => parts.len() == 5,
        _ => false,
    }
}

/// `path` with its symbolic links followed, even when the last one leads to nothing.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_owned();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = folder(&path).join(target);
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The folder of `path` (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Where the output goes: stdout, a file written directly, or a temporary file beside
/// `--output-file` that is renamed to it only by [`Sink::commit`]; dropped uncommitted (or on
/// a signal, see [`crate::signals`]), the temporary file is removed.
pub enum Sink {
    Stdout(BufWriter<io::Stdout>),
    Direct(BufWriter<File>),
    File {
        file: BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Sink {
    /// stdout, or what [`Target::check`] decided for `--output-file`.
    pub fn open(target: Option<Target>) -> anyhow::Result<Self> {
        let usage = |why: String| anyhow::Error::new(UsageError(why));
        Ok(match target {
            None => Sink::Stdout(BufWriter::new(io::stdout())),
            Some(Target::Direct(path)) => {
                // Appending: through a descriptor that a shell redirected to a file (`>>`), the
                // output goes after what is there; devices and FIFOs do not mind.
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| usage(format!("opening {}: {e}", path.display())))?;
                Sink::Direct(BufWriter::new(file))
            }
            Some(Target::Replace { path, existing }) => {
                let dir = folder(&path);
                // The mode given to open(2): the kernel applies the umask, as for any new file.
                let file = tempfile::Builder::new()
                    .prefix(".ccsqm-")
                    .permissions(Permissions::from_mode(0o666))
                    .tempfile_in(dir)
                    .map_err(|e| {
                        usage(format!(
                            "creating a temporary file in {}: {e}",
                            dir.display()
                        ))
                    })?;
                crate::signals::remove_on_signal(file.path());
                if let Some(existing) = existing {
                    keep_owner_and_mode(file.as_file(), existing)
                        .with_context(|| format!("setting the mode of {}", path.display()))?;
                    if existing.links > 1 {
                        eprintln!(
                            "ccsqm: note: {} has {} other hard link(s): they keep the previous \
                             content",
                            path.display(),
                            existing.links - 1
                        );
                    }
                }
                Sink::File {
                    file: BufWriter::new(file),
                    path,
                }
            }
        })
    }

    /// Flushes, and renames the temporary file to the output file.
    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut out) => Ok(out.flush()?),
            Sink::Direct(mut out) => Ok(out.flush()?),
            Sink::File { file, path } => {
                let file = file.into_inner().map_err(|e| e.into_error())?;
                file.as_file().sync_all()?;
                file.persist(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                crate::signals::forget();
                Ok(())
            }
        }
    }
}

/// Gives the temporary file the replaced file's owner and group (where allowed: only root may
/// give a file away) and permission bits.
fn keep_owner_and_mode(file: &File, existing: Existing) -> io::Result<()> {
    // Not allowed for other users' files unless root: the new file is then the caller's.
    let _ = std::os::unix::fs::fchown(file, Some(existing.uid), Some(existing.gid));
    file.set_permissions(Permissions::from_mode(existing.mode))
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::Direct(out) => out.write(buf),
            Sink::File { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::Direct(out) => out.flush(),
            Sink::File { file, .. } => file.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn descriptor_names_are_recognised() {
        for name in [
            "/dev/stdout",
            "/dev/stderr",
            "/dev/fd/1",
            "/proc/self/fd/3",
            "/proc/42/fd/1",
        ] {
            assert!(super::is_descriptor(Path::new(name)), "{name}");
        }
        for name in [
            "/dev/null",
            "/dev/shm/calls.csv",
            "/dev/fd",
            "/proc/self/fd",
            "/tmp/dev/stdout",
            "dev/stdout",
            "/dev/stdout/x",
        ] {
            assert!(!super::is_descriptor(Path::new(name)), "{name}");
        }
    }
}
