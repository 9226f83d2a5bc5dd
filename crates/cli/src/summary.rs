//! The lines on stderr that end `ccsqm details`: for one page, the table's footer or, in the
//! other formats, the note that more calls match than were written; the summary of an `--all`
//! export (all left out with `-q`).

use std::time::Duration;

/// `69925` as `69,925`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The footer of a one-page table: `100 of 69,925 calls (page 1); --all for every page`.
/// `total` is the page's `paging.total`; the hint is given while pages remain after this one.
pub fn page_footer(shown: u64, total: Option<u64>, page: u64, limit: u64) -> String {
    let calls = |n: u64| if n == 1 { "call" } else { "calls" };
    match total {
        None => format!("{} {} (page {page})", thousands(shown), calls(shown)),
        Some(total) => {
            let more = page.saturating_mul(limit) < total;
            let hint = match more {
                true => "; --all for every page",
                false => "",
            };
            format!(
                "{} of {} {} (page {page}){hint}",
                thousands(shown),
                thousands(total),
                calls(total)
            )
        }
    }
}

/// What one page (no `--all`) says on stderr once it is written, or nothing (`-q` leaves it
/// out). An export of one page is not every call that matches, and that is said in every
/// format and to every destination:
///
/// - the table: its footer, always (see [`page_footer`]);
/// - any other format (a file, a pipe): only when the output holds fewer calls than match,
///   that is when `paging.total` says more than were written, or when a full page came without
///   a total: `ccsqm: 100 of 1,635 matching calls written (page 1); --all for every page`.
///
/// Nothing for an empty page: `no_match` (of `ccsqm details`) says it instead. `shown`: the calls written
/// of the page; `total`: its `paging.total`.
pub fn page_note(
    shown: u64,
    total: Option<u64>,
    page: u64,
    limit: u64,
    table: bool,
) -> Option<String> {
    let calls = |n: u64| if n == 1 { "call" } else { "calls" };
    match total {
        _ if shown == 0 => None,
        _ if table => Some(page_footer(shown, total, page, limit)),
        Some(total) if total > shown => Some(format!(
            "ccsqm: {} of {} matching {} written (page {page}); --all for every page",
            thousands(shown),
            thousands(total),
            calls(total)
        )),
        None if shown >= limit => Some(format!(
            "ccsqm: {} {} written (page {page}); the server did not say how many match; --all \
             for every page",
            thousands(shown),
            calls(shown)
        )),
        _ => None,
    }
}

/// What an `--all` export did, for its last line.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub calls: u64,
    pub pages: u64,
    pub elapsed: Duration,
    pub retries: u64,
    pub warnings: usize,
}

impl std::fmt::Display for Summary {
    /// `1000 call(s) written, with 0 paging warning(s); 10 page(s) in 1.2 s (833 calls/s),
    /// 0 retries`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        let rate = match seconds > 0.0 {
            true => (self.calls as f64 / seconds).round() as u64,
            false => self.calls,
        };
        let retries = match self.retries {
            1 => "1 retry".to_owned(),
            n => format!("{n} retries"),
        };
        write!(
            f,
            "{} call(s) written, with {} paging warning(s); {} page(s) in {seconds:.1} s ({rate} \
             calls/s), {retries}",
            self.calls, self.warnings, self.pages
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(69_925), "69,925");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn footers_say_what_is_shown_of_what() {
        assert_eq!(
            page_footer(100, Some(69_925), 1, 100),
            "100 of 69,925 calls (page 1); --all for every page"
        );
        assert_eq!(page_footer(6, Some(6), 1, 100), "6 of 6 calls (page 1)");
        assert_eq!(
            page_footer(25, Some(125), 2, 50),
            "25 of 125 calls (page 2); --all for every page"
        );
        assert_eq!(
            page_footer(25, Some(125), 3, 50),
            "25 of 125 calls (page 3)"
        );
        assert_eq!(page_footer(1, None, 1, 100), "1 call (page 1)");
    }

    #[test]
    fn one_page_says_when_it_is_not_every_call() {
        let note = |shown, total, page, limit| page_note(shown, total, page, limit, false);
        assert_eq!(
            note(100, Some(1635), 1, 100).as_deref(),
            Some("ccsqm: 100 of 1,635 matching calls written (page 1); --all for every page")
        );
        // The last page holds fewer calls than match, too.
        assert_eq!(
            note(35, Some(1635), 17, 100).as_deref(),
            Some("ccsqm: 35 of 1,635 matching calls written (page 17); --all for every page")
        );
        assert_eq!(note(11, Some(11), 1, 100), None);
        assert_eq!(note(0, Some(11), 2, 100), None);
        assert_eq!(note(7, None, 1, 100), None);
        assert_eq!(
            note(100, None, 1, 100).as_deref(),
            Some(
                "ccsqm: 100 calls written (page 1); the server did not say how many match; \
                 --all for every page"
            )
        );
        // The table's footer: always, as the terminal's last line.
        assert_eq!(
            page_note(6, Some(6), 1, 100, true).as_deref(),
            Some("6 of 6 calls (page 1)")
        );
        assert_eq!(page_note(0, Some(6), 2, 100, true), None);
    }

    #[test]
    fn summaries_count_everything() {
        let summary = Summary {
            calls: 1000,
            pages: 10,
            elapsed: Duration::from_millis(2000),
            retries: 1,
            warnings: 2,
        };
        assert_eq!(
            summary.to_string(),
            "1000 call(s) written, with 2 paging warning(s); 10 page(s) in 2.0 s (500 calls/s), \
             1 retry"
        );
    }
}
