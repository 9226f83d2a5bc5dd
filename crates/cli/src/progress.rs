//! The progress bar of `ccsqm details --all`: on stderr, only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Calls fetched of `paging.total`, with the rate, the pages fetched at a time, and the time
/// left.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar on stderr, or nothing when `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            // The bar takes what the terminal's width leaves: the line never wraps.
            "{wide_bar} {human_pos}/{human_len} calls  {rate} calls/s  {msg} at a time  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", state.per_sec());
            },
        );
        bar.set_style(style);
        bar.set_message("1 page");
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(Some(bar))
    }

    /// `received` calls so far, of `total` (once the first page told it), fetching
    /// `concurrency` pages at a time.
    pub fn update(&self, received: u64, total: Option<u64>, concurrency: usize) {
        if let Some(bar) = &self.0 {
            let pages = match concurrency {
                1 => "1 page".to_owned(),
                n => format!("{n} pages"),
            };
            bar.set_message(pages);
            if let Some(total) = total {
                bar.set_length(total.max(received));
            }
            bar.set_position(received);
        }
    }

    /// Prints a line on stderr, above the bar.
    pub fn println(&self, line: &str) {
        match &self.0 {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Whether the bar is drawn (stderr is a terminal, and not `-q`).
    pub fn is_drawn(&self) -> bool {
        self.0.is_some()
    }

    /// Runs `f` with the bar hidden, then draws it again: what `f` writes to the terminal is
    /// not drawn over, nor draws over the bar.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
