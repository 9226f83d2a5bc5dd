//! Where `ccsqm details` and `ccsqm transcript` write: stdout, or `--output-file` (an output
//! file of [`ccsqm_export::file`]: replaced only when the export is complete; a directory or
//! a missing folder refused, exit 2).

use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use ccsqm_export::file::Target;
use ccsqm_export::file::{Error, Output};

use crate::error::UsageError;

/// Where the output goes: stdout, or an output file.
pub enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File(Output),
}

/// What writing `--output-file PATH` means; refuses (exit 2) a directory or a missing folder.
pub fn check(path: &Path) -> anyhow::Result<Target> {
    if path.as_os_str().is_empty() {
        return Err(UsageError("--output-file is empty".into()).into());
    }
    Target::check(path).map_err(|e| match e {
        Error::Refused(why) => UsageError(format!("--output-file {why}")).into(),
        other => anyhow::Error::new(other),
    })
}

impl Sink {
    /// stdout, or what [`check`] decided for `--output-file`.
    pub fn open(target: Option<Target>) -> anyhow::Result<Self> {
        let Some(target) = target else {
            return Ok(Sink::Stdout(BufWriter::new(io::stdout())));
        };
        let links = target.other_links();
        let path = match &target {
            Target::Replace { path, .. } => path.display().to_string(),
            Target::Direct(_) => String::new(),
        };
        let output = Output::open(target).map_err(|e| match e {
            Error::Open(why) => anyhow::Error::new(UsageError(why)),
            other => anyhow::Error::new(other),
        })?;
        if links > 0 {
            eprintln!(
                "ccsqm: note: {path} has {links} other hard link(s): they keep the previous \
                 content"
            );
        }
        Ok(Sink::File(output))
    }

    /// Flushes, and renames the temporary file to the output file.
    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut out) => Ok(out.flush()?),
            Sink::File(output) => Ok(output.commit()?),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File(out) => out.flush(),
        }
    }
}
