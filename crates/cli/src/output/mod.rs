//! Output formats: what `ccsqm details` and `ccsqm transcript` write to stdout or
//! `--output-file`. The formats are [`ccsqm_export`]'s; here: the flags' choice, `--jq`'s
//! worker, and the terminal's width.

pub use ccsqm_export::{
    cells, fields, transcript, write_page, CallWriter, CsvFormulas, CsvStyle, Format,
};

pub mod choice;
pub mod jq;

/// The width a table may take: the terminal's when stdout is one (`COLUMNS` if its size is
/// unknown), else `COLUMNS` when it is set, else no limit.
pub fn available_width(stdout_is_terminal: bool) -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    if stdout_is_terminal {
        if let Some((terminal_size::Width(w), _)) =
            terminal_size::terminal_size_of(std::io::stdout())
        {
            if w > 0 {
                return Some(usize::from(w));
            }
        }
    }
    columns
}

/// What the writers have to say: on stderr.
pub fn warn(prefix: &'static str) -> ccsqm_export::Warn {
    Box::new(move |text| eprintln!("{prefix}{text}"))
}
