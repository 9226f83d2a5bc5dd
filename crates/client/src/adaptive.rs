//! Adaptive concurrency of a [`CallStream`](crate::CallStream): how many pages it fetches at a
//! time when none is pinned.
//!
//! An additive-increase, multiplicative-decrease window, as TCP's: it starts at one page, and
//! doubles every round of pages (one more page per page answered) while answers come as fast as
//! the fastest seen and no `429`/`503` arrives; after the first sign of load, it grows by one
//! page per round. A page whose request met a `429` or `503` (even if a retry then succeeded)
//! halves it, once per round (pages sent before the halving do not halve it again), and a
//! `Retry-After` on it holds back new pages until it has passed. The window such a page was
//! sent in is remembered as where the server is full: the window
//! then grows to one page below it and stays there, probing one page more only after
//! [`PROBE_ROUNDS`] rounds without trouble, so that a server at capacity sees few `429`s.
//! Answers slower than twice the fastest (plus 10 ms) stop the growth. It never exceeds the
//! ceiling,
//! [`MAX_CONCURRENCY`] unless [`CallStream::max_concurrency`](crate::CallStream::max_concurrency)
//! says otherwise.
//!
//! The signals come from the client's retry loop: each page request runs in a task that carries
//! its own [`PageSignals`] (a task-local), through which the loop tells the window at once when
//! an attempt is answered `429` or `503` (not when the retries are over).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most pages an adaptive [`CallStream`](crate::CallStream) fetches at a time, by default.
pub const MAX_CONCURRENCY: usize = 32;

/// How much slower than the fastest answer an answer may be and still count as "flat".
const LATENCY_FACTOR: u32 = 2;
const LATENCY_SLACK: Duration = Duration::from_millis(10);
/// Rounds at one page below where the server was full before trying one page more.
pub const PROBE_ROUNDS: u64 = 32;

tokio::task_local! {
    static SIGNALS: Arc<PageSignals>;
}

/// One page request of an adaptive stream: its window, and whether an attempt met a 429/503.
#[derive(Debug)]
pub(crate) struct PageSignals {
    window: Arc<Window>,
    sent: Sent,
    throttled: AtomicBool,
}

impl PageSignals {
    pub fn new(window: Arc<Window>, sent: Sent) -> Self {
        Self {
            window,
            sent,
            throttled: AtomicBool::new(false),
        }
    }

    /// Runs `request` with these signals as its task's.
    pub async fn scope<F: std::future::Future>(self: Arc<Self>, request: F) -> F::Output {
        SIGNALS.scope(self, request).await
    }

    /// Whether an attempt was answered 429 or 503.
    pub fn throttled(&self) -> bool {
        self.throttled.load(Ordering::Relaxed)
    }
}

/// Called by the retry loop for an attempt answered with `status` (and the wait its
/// `Retry-After` asks for): when it is a 429 or 503 and a page request of an adaptive stream is
/// running, tells its window now.
pub(crate) fn report(status: u16, retry_after: Option<Duration>) {
    if !matches!(status, 429 | 503) {
        return;
    }
    let _ = SIGNALS.try_with(|signals| {
        let first = !signals.throttled.swap(true, Ordering::Relaxed);
        signals.window.throttle(signals.sent, retry_after, first);
    });
}

/// The window of an adaptive stream, shared with its page tasks.
#[derive(Debug)]
pub(crate) struct Window {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    ceiling: usize,
    /// The window, in pages (fractional while it grows by one page per round).
    size: f64,
    slow_start: bool,
    fastest: Option<Duration>,
    /// Pages sent so far; a page is numbered by the count when it was sent.
    sent: u64,
    /// Pages sent before the last halving do not halve the window again.
    halved_at: u64,
    /// Pages in flight now.
    in_flight: usize,
    /// The smallest window in which a page was answered 429/503 (plus probes since).
    full_at: Option<usize>,
    /// Pages answered at the cap below `full_at` since the last probe.
    calm: u64,
    paused_until: Option<Instant>,
    throttled: u64,
}

impl Window {
    pub fn new(ceiling: usize) -> Self {
        Self {
            state: Mutex::new(State {
                ceiling: ceiling.max(1),
                size: 1.0,
                slow_start: true,
                fastest: None,
                sent: 0,
                halved_at: 0,
                in_flight: 0,
                full_at: None,
                calm: 0,
                paused_until: None,
                throttled: 0,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_ceiling(&self, ceiling: usize) {
        let mut state = self.state();
        state.ceiling = ceiling.max(1);
        state.size = state.size.min(state.ceiling as f64);
    }

    /// Pages that may be in flight now.
    pub fn size(&self) -> usize {
        (self.state().size.floor() as usize).max(1)
    }

    /// Until when no new page should be sent (a `Retry-After`), if that is still to come.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.state().paused_until.filter(|&until| until > now)
    }

    /// Pages answered 429 or 503 (at least once) so far.
    pub fn throttled(&self) -> u64 {
        self.state().throttled
    }

    /// A page is being sent: what [`Window::answered`] needs to know of it.
    pub fn sending(&self) -> Sent {
        let mut state = self.state();
        state.sent += 1;
        state.in_flight += 1;
        Sent {
            number: state.sent,
            window: state.in_flight.max(state.size.floor() as usize),
        }
    }

    /// An attempt of the page `sent` was answered 429 or 503 (`first`: the first time for
    /// this page), with a `Retry-After` of `retry_after`.
    pub fn throttle(&self, sent: Sent, retry_after: Option<Duration>, first: bool) {
        let mut state = self.state();
        if first {
            state.throttled += 1;
        }
        state.slow_start = false;
        state.calm = 0;
        state.full_at = Some(state.full_at.map_or(sent.window, |f| f.min(sent.window)));
        if sent.number > state.halved_at {
            // Halved, and no more than just below where the server was full.
            let cap = state.full_at.unwrap_or(usize::MAX).saturating_sub(1) as f64;
            state.size = (state.size / 2.0).min(cap).max(1.0);
            state.halved_at = state.sent;
            tracing::debug!(concurrency = state.size, "429/503: concurrency halved");
        }
        if let Some(wait) = retry_after.filter(|w| !w.is_zero()) {
            let until = Instant::now() + wait;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// A page was answered (finally) after `latency`; `throttled`: an attempt of it met a 429
    /// or 503 (already told by [`Window::throttle`]).
    pub fn answered(&self, latency: Duration, throttled: bool) {
        let mut state = self.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if throttled {
            return;
        }
        let fastest = state.fastest.map_or(latency, |f| f.min(latency));
        state.fastest = Some(fastest);
        if latency > fastest * LATENCY_FACTOR + LATENCY_SLACK {
            // Answers slow down: the server (or the path to it) is busy. Hold.
            state.slow_start = false;
            return;
        }
        let cap = match state.full_at {
            Some(full) => (full.saturating_sub(1).max(1)).min(state.ceiling),
            None => state.ceiling,
        } as f64;
        if state.size < cap {
            let step = if state.slow_start {
                1.0
            } else {
                1.0 / state.size
            };
            state.size = (state.size + step).min(cap);
        } else if let Some(full) = state.full_at {
            // At the cap: after enough calm rounds, try one page more.
            state.calm += 1;
            if state.calm >= PROBE_ROUNDS * state.size as u64 {
                state.calm = 0;
                state.full_at = Some(full + 1);
            }
        }
    }
}

/// A page sent by an adaptive stream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sent {
    number: u64,
    /// The window it was sent in: the pages it allowed in flight (or were, if more).
    window: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page `sent` answered 429 (with a `Retry-After` of `ms`), then answered.
    fn throttled(window: &Window, sent: Sent, ms: u64) {
        window.throttle(sent, Some(Duration::from_millis(ms)), true);
        window.answered(FAST, true);
    }

    const FAST: Duration = Duration::from_millis(20);

    #[test]
    fn grows_while_flat_up_to_the_ceiling() {
        let window = Window::new(8);
        assert_eq!(window.size(), 1);
        for _ in 0..3 {
            window.sending();
            window.answered(FAST, false);
        }
        assert_eq!(window.size(), 4, "one more page per page answered");
        for _ in 0..100 {
            window.sending();
            window.answered(FAST, false);
        }
        assert_eq!(window.size(), 8, "never above the ceiling");
    }

    #[test]
    fn slower_answers_stop_the_growth() {
        let window = Window::new(32);
        window.sending();
        window.answered(FAST, false);
        assert_eq!(window.size(), 2);
        for _ in 0..10 {
            window.sending();
            window.answered(FAST * 5, false);
        }
        assert_eq!(window.size(), 2);
    }

    #[test]
    fn a_429_halves_once_per_round_caps_below_where_it_came_and_retry_after_pauses() {
        let window = Window::new(32);
        let one = |w: &Window, throttle: bool| {
            let sent = w.sending();
            if throttle {
                throttled(w, sent, 0);
            } else {
                w.answered(FAST, false);
            }
        };
        for _ in 0..15 {
            one(&window, false);
        }
        assert_eq!(window.size(), 16);
        // Eight pages at a time: the sixth, seventh and eighth are answered 429.
        let together: Vec<Sent> = (0..8).map(|_| window.sending()).collect();
        for _ in &together[..5] {
            window.answered(FAST, false);
        }
        assert_eq!(window.size(), 21);
        for &sent in &together[5..] {
            throttled(&window, sent, 1000);
        }
        assert_eq!(window.throttled(), 3);
        assert_eq!(window.size(), 10, "halved once: 21 -> 10");
        let now = Instant::now();
        let until = window.paused_until(now).expect("Retry-After pauses");
        assert!(until >= now + Duration::from_millis(900));

        // One page per round up to just below the window of 16 that met the 429s.
        let mut pages = 0;
        while window.size() < 15 && pages < 1000 {
            one(&window, false);
            pages += 1;
        }
        assert_eq!(window.size(), 15);
        assert!(pages >= 5 * 10, "additively: {pages} pages");
        // Calm rounds at the cap: no growth until it probes one page more.
        for _ in 0..(PROBE_ROUNDS * 15 - 1) {
            one(&window, false);
        }
        assert_eq!(window.size(), 15);
        one(&window, false);
        for _ in 0..16 {
            one(&window, false);
        }
        assert_eq!(window.size(), 16, "a probe: one page more, additively");

        one(&window, true);
        assert_eq!(
            window.size(),
            8,
            "a page sent after the halving halves again"
        );
        for _ in 0..4 {
            one(&window, true);
        }
        assert_eq!(window.size(), 1, "never below one page");
    }

    #[tokio::test]
    async fn the_retry_loop_tells_the_window_of_the_page_running_at_once() {
        let window = Arc::new(Window::new(32));
        for _ in 0..7 {
            window.sending();
            window.answered(FAST, false);
        }
        assert_eq!(window.size(), 8);
        for _ in 0..5 {
            window.sending(); // in flight with the page below
        }
        let sent = window.sending();
        let signals = Arc::new(PageSignals::new(window.clone(), sent));
        signals
            .clone()
            .scope(async {
                report(200, None);
                report(500, None);
                assert_eq!(window.size(), 8);
                report(503, Some(Duration::from_secs(2)));
                assert_eq!(window.size(), 4, "halved before the retries are over");
                report(429, Some(Duration::from_secs(1)));
            })
            .await;
        report(429, None); // no page running: nothing
        assert!(signals.throttled());
        assert_eq!(window.throttled(), 1, "one page");
        assert_eq!(window.size(), 4, "once per round");
        let now = Instant::now();
        let until = window.paused_until(now).expect("paused");
        assert!(until >= now + Duration::from_millis(1900));
    }
}
