//! The clock of a live sandbox: what time it is for the data set (which calls have been
//! uploaded, how far each inspection has gone).
//!
//! It runs at real time, or faster (`--speed 600`: ten minutes a second), or only when moved
//! ([`Clock::manual`]: tests set and advance it). Readings are whole Unix seconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A live sandbox's clock. Clones share the same clock: the handle [`crate::Sandbox::clock`]
/// gives moves the one the server reads.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<State>>);

#[derive(Debug)]
struct State {
    /// The reading at `since`, in Unix seconds.
    base: i64,
    since: Instant,
    /// Clock seconds per real second; 0: it moves only when set or advanced.
    speed: u32,
}

/// The system time, in Unix seconds.
pub(crate) fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Clock {
    /// A clock that starts at the system time and runs `speed` times as fast as real time
    /// (1: real time; 0 is taken as 1).
    pub fn real(speed: u32) -> Self {
        Self::starting_at(system_now(), speed.max(1))
    }

    /// A clock that reads `start` and moves only by [`Clock::set`] and [`Clock::advance`]: for
    /// tests, where the state of the data must not depend on how fast the machine is.
    pub fn manual(start: i64) -> Self {
        Self::starting_at(start, 0)
    }

    /// A clock that reads `start` now and runs `speed` times as fast as real time (0: manual).
    pub fn starting_at(start: i64, speed: u32) -> Self {
        Self(Arc::new(Mutex::new(State {
            base: start,
            since: Instant::now(),
            speed,
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The reading, in Unix seconds.
    pub fn now(&self) -> i64 {
        let state = self.state();
        Self::reading(&state)
    }

    fn reading(state: &State) -> i64 {
        let elapsed_ms = state.since.elapsed().as_millis();
        let ahead = elapsed_ms.saturating_mul(u128::from(state.speed)) / 1000;
        state
            .base
            .saturating_add(i64::try_from(ahead).unwrap_or(i64::MAX))
    }

    /// How many clock seconds pass in a real second (0: a manual clock).
    pub fn speed(&self) -> u32 {
        self.state().speed
    }

    /// Sets the reading to `time` (Unix seconds); a running clock goes on from there.
    pub fn set(&self, time: i64) {
        let mut state = self.state();
        state.base = time;
        state.since = Instant::now();
    }

    /// Moves the clock `by` ahead (whole seconds; a fraction is dropped).
    pub fn advance(&self, by: Duration) {
        let mut state = self.state();
        let now = Self::reading(&state);
        state.base = now.saturating_add(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
        state.since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_700_000_000);
        let shared = clock.clone();
        assert_eq!(clock.now(), 1_700_000_000);
        shared.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), 1_700_000_090);
        shared.set(1_600_000_000);
        assert_eq!(clock.now(), 1_600_000_000);
        assert_eq!(clock.speed(), 0);
    }

    #[test]
    fn a_running_clock_does_not_go_back() {
        let clock = Clock::starting_at(1_000, 600);
        let first = clock.now();
        assert!(first >= 1_000);
        assert!(clock.now() >= first);
        assert_eq!(Clock::real(0).speed(), 1);
    }
}
