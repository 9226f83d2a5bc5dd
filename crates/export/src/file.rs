//! Output files (Unix): where `ccsqm details` and `ccsqm transcript` write `--output-file`.
//!
//! What writing to `PATH` does depends on what is at `PATH`, checked first ([`Target::check`],
//! before any request):
//!
//! - a regular file, or nothing yet: the output goes to a temporary file in the same folder,
//!   which replaces `PATH` by a rename only when the export is complete, so a failed or
//!   interrupted export leaves the previous file untouched. No temporary file is ever left
//!   beside it, even by a process killed with SIGKILL: on Linux the temporary file has no
//!   name (`O_TMPFILE`) until it is complete, when it is linked under a temporary name and
//!   renamed over `PATH`; elsewhere, or on a filesystem without `O_TMPFILE`, it is named
//!   `.ccsqm-tmp.<host>.<pid>.<random>`, and each run removes those of earlier runs on this
//!   machine whose process is gone (see [`Temporary`]). The new file keeps the
//!   replaced file's permission bits (and owner and group, where allowed); a new file gets
//!   `0666` less the umask, as any tool would create it. Other hard links to a replaced file
//!   keep the previous content (a note on stderr says so).
//! - a symbolic link: followed; the file it leads to is replaced as above (the link stays).
//! - a device, FIFO or socket (`/dev/null`, a named pipe), or the name of an open file
//!   descriptor (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`): opened and
//!   written directly (appending), never replaced.
//! - a directory, or a path whose folder does not exist: refused ([`Error::Refused`]).
//!
//! A program that exits on a signal calls [`remove_temporary`] first.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::TempPath;

/// Why an output file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path cannot be an output file (a directory, a missing folder): the message starts
    /// with the path and says why.
    #[error("{0}")]
    Refused(String),
    /// The output, or the temporary file beside it, could not be opened: the message says
    /// which.
    #[error("{0}")]
    Open(String),
    /// Writing failed: what was being done, and why.
    #[error("{context}")]
    Write {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: io::Error,
    },
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// How an output file is written, decided before any request.
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
    /// What writing to `path` means; refuses an empty path, a directory or a missing folder.
    pub fn check(path: &Path) -> Result<Target, Error> {
        let usage = Error::Refused;
        let shown = path.display();
        if path.as_os_str().is_empty() {
            return Err(usage("the path is empty".into()));
        }
        if is_descriptor(path) {
            return match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => Err(usage(format!("{shown} is a directory"))),
                _ => Ok(Target::Direct(path.to_owned())),
            };
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(usage(format!("{shown} is a directory: name a file"))),
            Ok(meta) if meta.is_file() => {
                let real =
                    std::fs::canonicalize(path).map_err(|e| usage(format!("{shown}: {e}")))?;
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
                let path = follow_links(path).map_err(|e| usage(format!("{shown}: {e}")))?;
                let dir = folder(&path);
                match std::fs::metadata(dir) {
                    Ok(meta) if meta.is_dir() => Ok(Target::Replace {
                        path,
                        existing: None,
                    }),
                    Ok(_) => Err(usage(format!(
                        "{shown}: {} is not a directory",
                        dir.display()
                    ))),
                    Err(e) => Err(usage(format!("{shown}: its folder {}: {e}", dir.display()))),
                }
            }
            Err(e) => Err(usage(format!("{shown}: {e}"))),
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

/// An output file: written directly, or a temporary file beside it that is renamed to it only
/// by [`Output::commit`]; dropped uncommitted (or removed by [`remove_temporary`]), the
/// temporary file is gone.
pub enum Output {
    /// A device, FIFO, socket or file descriptor, written directly.
    Direct(BufWriter<File>),
    /// A temporary file that replaces `path` on [`Output::commit`].
    File {
        /// The temporary file.
        file: BufWriter<Temporary>,
        /// The file it replaces.
        path: PathBuf,
    },
}

/// The named temporary file being written, removed by [`remove_temporary`].
static TEMPORARY: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Removes `path` if [`remove_temporary`] is called before [`forget`].
fn remove_on_signal(path: &Path) {
    if let Ok(mut slot) = TEMPORARY.lock() {
        *slot = Some(path.to_owned());
    }
}

/// The temporary file was renamed or removed: nothing to remove any more.
fn forget() {
    if let Ok(mut slot) = TEMPORARY.lock() {
        *slot = None;
    }
}

/// Removes the named temporary file of the output being written, if there is one: for a
/// program about to exit on a signal (an unnamed one goes with the process).
pub fn remove_temporary() {
    let removed = TEMPORARY.lock().ok().and_then(|mut slot| slot.take());
    if let Some(path) = removed {
        let _ = std::fs::remove_file(path);
    }
}

/// The new content of a replaced file, in its folder, until [`Output::commit`] renames it.
///
/// On Linux it is an unnamed file (`O_TMPFILE`): whatever happens to the process (an error, a
/// panic, SIGKILL, a power cut), nothing is left in the folder. Complete, it is linked under a
/// temporary name and renamed over the output file. Elsewhere, on a filesystem without
/// `O_TMPFILE` (the kernel refuses it: `EOPNOTSUPP`, `EISDIR`, `EINVAL`), or without
/// `/proc/self/fd` to link it from, it is a named file, `.ccsqm-tmp.<host>.<pid>.<random>`,
/// removed when dropped or on a signal; one left by a process killed outright is removed by
/// the next run in that folder once its process is gone.
pub struct Temporary {
    file: File,
    /// The file's name: none while it is unnamed.
    name: Option<TempPath>,
    dir: PathBuf,
}

/// The start of the names of temporary files; the rest is `<host>.<pid>.<random>`.
const PREFIX: &str = ".ccsqm-tmp.";

impl Temporary {
    /// A new temporary file in `dir`, unnamed where the system allows it; mode `0666` less the
    /// umask, as any new file.
    pub fn create(dir: &Path) -> io::Result<Self> {
        remove_leftovers(dir);
        #[cfg(target_os = "linux")]
        match unnamed(dir) {
            Ok(file) => {
                return Ok(Temporary {
                    file,
                    name: None,
                    dir: dir.to_owned(),
                })
            }
            Err(e) => tracing::debug!(
                "no unnamed temporary file in {} ({e}): a named one",
                dir.display()
            ),
        }
        Self::named(dir)
    }

    /// A named temporary file in `dir` (removed when dropped, or on a signal).
    fn named(dir: &Path) -> io::Result<Self> {
        let (file, name) = tempfile::Builder::new()
            .prefix(&name_start())
            .permissions(Permissions::from_mode(0o666))
            .tempfile_in(dir)?
            .into_parts();
        remove_on_signal(&name);
        Ok(Temporary {
            file,
            name: Some(name),
            dir: dir.to_owned(),
        })
    }

    /// The file written.
    fn file(&self) -> &File {
        &self.file
    }

    /// Writes the file to disk and renames it over `path`, which is replaced at once (a reader
    /// sees the previous file or the new one, never a part).
    fn persist(self, path: &Path) -> io::Result<()> {
        self.file.sync_all()?;
        let name = match self.name {
            Some(name) => name,
            None => {
                let name = link(&self.file, &self.dir)?;
                remove_on_signal(&name);
                name
            }
        };
        name.persist(path).map_err(|e| e.error)?;
        forget();
        // The rename on disk too (a failure here changes nothing of what was written).
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Write for Temporary {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// An unnamed file in `dir` (`O_TMPFILE`), which can be linked into it later: refused by some
/// filesystems and old kernels, and useless without `/proc/self/fd` to link it from.
#[cfg(target_os = "linux")]
fn unnamed(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if !Path::new("/proc/self/fd").is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "/proc/self/fd is missing",
        ));
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o666)
        .open(dir)
}

/// Gives the unnamed `file` a temporary name in `dir` (to be renamed: a link cannot replace a
/// file), through `/proc/self/fd/N`.
#[cfg(target_os = "linux")]
fn link(file: &File, dir: &Path) -> io::Result<TempPath> {
    use std::ffi::CString;
    use std::hash::{BuildHasher, RandomState};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    for attempt in 0u32..64 {
        let random = RandomState::new().hash_one(attempt);
        let name = dir.join(format!("{}{random:016x}", name_start()));
        let to = CString::new(name.as_os_str().as_bytes())?;
        // SAFETY: both paths are NUL-terminated strings that live across the call.
        let linked = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if linked == 0 {
            return TempPath::try_from_path(&name).inspect_err(|_| {
                let _ = std::fs::remove_file(&name);
            });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::AlreadyExists {
            return Err(error);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

#[cfg(not(target_os = "linux"))]
fn link(_: &File, _: &Path) -> io::Result<TempPath> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no unnamed files here",
    ))
}

/// `.ccsqm-tmp.<host>.<pid>.`: the start of this process's temporary names.
fn name_start() -> String {
    format!("{PREFIX}{}.{}.", host(), std::process::id())
}

/// This machine's name, as it goes into a temporary name: letters, digits and `-` (anything
/// else becomes `_`), at most 64 characters. A folder shared between machines (NFS) holds
/// temporary files of processes that this machine cannot see: their host tells them apart.
fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the name is NUL-terminated when it fits.
    let done = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let name = match done {
        0 => buf.split(|b| *b == 0).next().unwrap_or_default(),
        _ => &[],
    };
    let host: String = String::from_utf8_lossy(name)
        .chars()
        .take(64)
        .map(|c| match c.is_ascii_alphanumeric() || c == '-' {
            true => c,
            false => '_',
        })
        .collect();
    match host.is_empty() {
        true => "localhost".to_owned(),
        false => host,
    }
}

/// The process of a temporary name of this machine's, `.ccsqm-tmp.<host>.<pid>.<random>`.
fn leftover_pid(name: &str, host: &str) -> Option<i32> {
    let mut parts = name.strip_prefix(PREFIX)?.splitn(3, '.');
    let (named_host, pid, _) = (parts.next()?, parts.next()?, parts.next()?);
    let pid: i32 = pid.parse().ok()?;
    (named_host == host && pid > 0).then_some(pid)
}

/// Removes the temporary files that runs on this machine left in `dir` when they were killed
/// outright (SIGKILL) with a named temporary file: those whose process is gone. Any other file
/// is left alone, and so is what cannot be removed.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let host = host();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| leftover_pid(n, &host)) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && process_is_gone(pid) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::debug!("removed {}, left by process {pid}", entry.path().display())
                }
                Err(e) => tracing::debug!("leaving {}: {e}", entry.path().display()),
            }
        }
    }
}

/// Whether no process `pid` runs (another user's still counts as running).
fn process_is_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let found = unsafe { libc::kill(pid, 0) };
    found == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

impl Target {
    /// Other hard links of the file replaced: they keep its previous content.
    pub fn other_links(&self) -> u64 {
        match self {
            Target::Replace {
                existing: Some(existing),
                ..
            } => existing.links.saturating_sub(1),
            _ => 0,
        }
    }
}

impl Output {
    /// Opens what [`Target::check`] decided.
    pub fn open(target: Target) -> Result<Self, Error> {
        let usage = Error::Open;
        Ok(match target {
            Target::Direct(path) => {
                // Appending: through a descriptor that a shell redirected to a file (`>>`), the
                // output goes after what is there; devices and FIFOs do not mind.
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| usage(format!("opening {}: {e}", path.display())))?;
                Output::Direct(BufWriter::new(file))
            }
            Target::Replace { path, existing } => {
                let dir = folder(&path);
                let file = Temporary::create(dir).map_err(|e| {
                    usage(format!(
                        "creating a temporary file in {}: {e}",
                        dir.display()
                    ))
                })?;
                if let Some(existing) = existing {
                    keep_owner_and_mode(file.file(), existing).map_err(|source| Error::Write {
                        context: format!("setting the mode of {}", path.display()),
                        source,
                    })?;
                }
                Output::File {
                    file: BufWriter::new(file),
                    path,
                }
            }
        })
    }

    /// Flushes, and renames the temporary file to the output file.
    pub fn commit(self) -> Result<(), Error> {
        match self {
            Output::Direct(mut out) => Ok(out.flush()?),
            Output::File { file, path } => {
                let file = file.into_inner().map_err(|e| e.into_error())?;
                file.persist(&path).map_err(|source| Error::Write {
                    context: format!("writing {}", path.display()),
                    source,
                })
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

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Direct(out) => out.write(buf),
            Output::File { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Direct(out) => out.flush(),
            Output::File { file, .. } => file.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::Temporary;

    /// Both kinds of temporary file replace the output only when persisted, and leave nothing.
    #[test]
    fn temporary_files_replace_the_output_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.csv");
        let names = || {
            let mut names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        std::fs::write(&path, "previous\n").unwrap();
        for named in [false, true] {
            let make = || match named {
                true => Temporary::named(dir.path()).unwrap(),
                false => Temporary::create(dir.path()).unwrap(),
            };
            let mut dropped = make();
            dropped.write_all(b"half").unwrap();
            drop(dropped);
            assert_eq!(names(), ["calls.csv"], "named: {named}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous\n");
            let mut done = make();
            done.write_all(b"new\n").unwrap();
            done.persist(&path).unwrap();
            assert_eq!(names(), ["calls.csv"], "named: {named}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
            std::fs::write(&path, "previous\n").unwrap();
        }
    }

    #[test]
    fn leftover_names_say_their_host_and_process() {
        let pid = |name: &str| super::leftover_pid(name, "vm-1");
        assert_eq!(pid(".ccsqm-tmp.vm-1.42.a1B2c3"), Some(42));
        assert_eq!(pid(".ccsqm-tmp.vm-1.42.a.b"), Some(42));
        assert_eq!(pid(".ccsqm-tmp.vm-2.42.a1B2c3"), None);
        assert_eq!(pid(".ccsqm-tmp.vm-1.0.a1B2c3"), None);
        assert_eq!(pid(".ccsqm-tmp.vm-1.-3.a1B2c3"), None);
        assert_eq!(pid(".ccsqm-tmp.vm-1.42"), None);
        assert_eq!(pid(".ccsqm-Ab12Cd"), None);
        assert_eq!(pid("calls.csv"), None);
        assert!(super::name_start().starts_with(super::PREFIX));
        assert!(!super::host().contains('.'));
    }

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
