//! Injected faults: error answers, dropped connections, truncated bodies, added latency.

use std::time::Duration;

use crate::rng::SplitMix64;

/// Added latency before each answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Latency {
    /// No added latency (the default).
    #[default]
    None,
    /// The same delay before every answer.
    Fixed(Duration),
    /// A delay drawn uniformly from `min..=max` for each request.
    Range(Duration, Duration),
}

/// The statuses of injected error answers, used in turn: 500, 502 and 503 by default. Between
/// one and [`ErrorStatuses::MAX`] codes, each from 400 to 599.
///
/// ```
/// use ccsqm_sandbox::ErrorStatuses;
/// // Only statuses a client retries (the vendor documents 500 as a business failure).
/// let retryable: ErrorStatuses = "502,503,504".parse().unwrap();
/// assert_eq!(retryable.as_slice(), [502, 503, 504]);
/// assert_eq!(ErrorStatuses::default().as_slice(), [500, 502, 503]);
/// assert!("200".parse::<ErrorStatuses>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ErrorStatuses {
    codes: [u16; ErrorStatuses::MAX],
    len: usize,
}

impl ErrorStatuses {
    /// The most statuses a set holds.
    pub const MAX: usize = 8;

    /// A set of statuses, used in the order given: 1 to [`ErrorStatuses::MAX`] codes, each
    /// an error status (400 to 599).
    pub fn new(codes: &[u16]) -> Result<Self, String> {
        if codes.is_empty() || codes.len() > Self::MAX {
            return Err(format!(
                "expected 1 to {} error statuses, not {}",
                Self::MAX,
                codes.len()
            ));
        }
        if let Some(code) = codes.iter().find(|c| !(400..=599).contains(*c)) {
            return Err(format!("{code} is not an error status (400 to 599)"));
        }
        let mut set = Self {
            codes: [0; Self::MAX],
            len: codes.len(),
        };
        set.codes[..codes.len()].copy_from_slice(codes);
        Ok(set)
    }

    /// The statuses, in the order they are used.
    pub fn as_slice(&self) -> &[u16] {
        &self.codes[..self.len]
    }
}

impl Default for ErrorStatuses {
    fn default() -> Self {
        Self::new(&[500, 502, 503]).expect("valid statuses")
    }
}

impl std::fmt::Debug for ErrorStatuses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl std::str::FromStr for ErrorStatuses {
    type Err = String;

    /// Statuses separated by commas, e.g. `502,503,504`.
    fn from_str(s: &str) -> Result<Self, String> {
        let codes = s
            .split(',')
            .map(|c| {
                c.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("{:?} is not an HTTP status", c.trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(&codes)
    }
}

/// Which faults the sandbox injects, and how often. All off by default.
///
/// For each request to one of the API's operations the sandbox draws one number from its fault
/// generator, seeded by [`Faults::seed`]: with probability `error_rate` it answers with one of
/// [`Faults::error_statuses`] (500, 502 and 503 by default, in turn); with probability `drop_rate` it closes the connection without
/// answering; with probability `truncate_rate` it sends the headers and only the first half of
/// the body, then closes the connection. The three rates add up to at most 1. A rate of 1.0
/// makes a fault certain; the same seed and the same sequence of requests give the same faults.
///
/// A capacity, `max_in_flight`, is the fault of a server that cannot take more: a request that
/// arrives while that many are being answered gets `429 Too Many Requests` with
/// `Retry-After: 1` at once (no latency, no other fault).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered with an error status (one of `error_statuses`, in turn).
    pub error_rate: f64,
    /// The statuses of the error answers, used in turn (default 500, 502, 503).
    pub error_statuses: ErrorStatuses,
    /// Share of requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Share of requests whose body is cut in half (the connection is then closed).
    pub truncate_rate: f64,
    /// Latency added before every answer (and before a fault).
    pub latency: Latency,
    /// Seed of the fault generator.
    pub seed: u64,
    /// The most requests answered at a time; more are answered 429 with `Retry-After`
    /// ([`RETRY_AFTER_SECS`]). `None`: no limit (the default).
    pub max_in_flight: Option<std::num::NonZeroUsize>,
}

/// The `Retry-After` of the 429 answers of a sandbox at capacity, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Checks that every rate is within 0..=1 and that they add up to at most 1.
    pub fn check(&self) -> Result<(), String> {
        let rates = [
            ("error rate", self.error_rate),
            ("drop rate", self.drop_rate),
            ("truncate rate", self.truncate_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("the {name} must be between 0 and 1, not {rate}"));
            }
        }
        if self.error_rate + self.drop_rate + self.truncate_rate > 1.0 + 1e-9 {
            return Err("the error, drop and truncate rates add up to more than 1".to_owned());
        }
        if let Latency::Range(min, max) = self.latency {
            if min > max {
                return Err(format!("the latency range {min:?}..{max:?} is empty"));
            }
        }
        Ok(())
    }
}

/// The faults in words, for people (the banner of `ccsqm sandbox`): e.g. `10 % of requests
/// answered 500, 502 or 503 in turn; 50 to 400 ms (at random) added before each answer (fault
/// seed 0)`; `none` without faults.
impl std::fmt::Display for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |rate: f64| format!("{} %", (rate * 10_000.0).round() / 100.0);
        let mut parts = Vec::new();
        if self.error_rate > 0.0 {
            let statuses: Vec<String> = self
                .error_statuses
                .as_slice()
                .iter()
                .map(u16::to_string)
                .collect();
            let statuses = match statuses.as_slice() {
                [one] => one.clone(),
                [init @ .., last] => format!("{} or {last} in turn", init.join(", ")),
                [] => String::new(),
            };
            parts.push(format!(
                "{} of requests answered {statuses}",
                percent(self.error_rate)
            ));
        }
        if self.drop_rate > 0.0 {
            parts.push(format!(
                "{} of connections closed without an answer",
                percent(self.drop_rate)
            ));
        }
        if self.truncate_rate > 0.0 {
            parts.push(format!(
                "{} of bodies cut in half",
                percent(self.truncate_rate)
            ));
        }
        match self.latency {
            Latency::None => {}
            Latency::Fixed(d) => {
                parts.push(format!("{} ms added before each answer", d.as_millis()))
            }
            Latency::Range(min, max) => parts.push(format!(
                "{} to {} ms (at random) added before each answer",
                min.as_millis(),
                max.as_millis()
            )),
        }
        if let Some(last) = parts.last_mut() {
            last.push_str(&format!(" (fault seed {})", self.seed));
        }
        if let Some(n) = self.max_in_flight {
            parts.push(format!(
                "at most {n} request(s) answered at a time (more get 429 with Retry-After: \
                 {RETRY_AFTER_SECS})"
            ));
        }
        match parts.is_empty() {
            true => f.write_str("none"),
            false => f.write_str(&parts.join("; ")),
        }
    }
}

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Status(u16),
    Drop,
    Truncate,
}

/// The faults in force and the generator that draws them.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: SplitMix64,
    errors: u64,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        Self {
            rng: SplitMix64::new(faults.seed),
            faults,
            errors: 0,
        }
    }

    /// Draws the fault and the latency of the next request.
    pub fn draw(&mut self) -> (Fault, Duration) {
        let f = self.faults;
        let latency = match f.latency {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Range(min, max) => {
                let span = max.saturating_sub(min).as_micros() as u64;
                min + Duration::from_micros(self.rng.below(span + 1))
            }
        };
        if f.error_rate + f.drop_rate + f.truncate_rate <= 0.0 {
            return (Fault::None, latency);
        }
        let x = self.rng.unit();
        let fault = if x < f.error_rate {
            let statuses = f.error_statuses.as_slice();
            let status = statuses[(self.errors % statuses.len() as u64) as usize];
            self.errors += 1;
            Fault::Status(status)
        } else if x < f.error_rate + f.drop_rate {
            Fault::Drop
        } else if x < f.error_rate + f.drop_rate + f.truncate_rate {
            Fault::Truncate
        } else {
            Fault::None
        };
        (fault, latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_in_words() {
        assert_eq!(Faults::none().to_string(), "none");
        let faults = Faults {
            error_rate: 0.1,
            drop_rate: 0.05,
            truncate_rate: 0.125,
            latency: Latency::Range(Duration::from_millis(50), Duration::from_millis(400)),
            seed: 7,
            max_in_flight: std::num::NonZeroUsize::new(8),
            ..Faults::none()
        };
        assert_eq!(
            faults.to_string(),
            "10 % of requests answered 500, 502 or 503 in turn; 5 % of connections closed \
             without an answer; 12.5 % of bodies cut in half; 50 to 400 ms (at random) added \
             before each answer (fault seed 7); at most 8 request(s) answered at a time (more \
             get 429 with Retry-After: 1)"
        );
        let one = Faults {
            error_rate: 1.0,
            error_statuses: ErrorStatuses::new(&[503]).unwrap(),
            latency: Latency::Fixed(Duration::from_millis(20)),
            ..Faults::none()
        };
        assert_eq!(
            one.to_string(),
            "100 % of requests answered 503; 20 ms added before each answer (fault seed 0)"
        );
    }

    #[test]
    fn rates_are_checked() {
        assert!(Faults::none().check().is_ok());
        let too_much = Faults {
            error_rate: 0.6,
            drop_rate: 0.6,
            ..Faults::none()
        };
        assert!(too_much.check().is_err());
        let negative = Faults {
            truncate_rate: -0.1,
            ..Faults::none()
        };
        assert!(negative.check().is_err());
    }

    #[test]
    fn a_rate_of_one_is_certain_and_errors_rotate() {
        let mut state = FaultState::new(Faults {
            error_rate: 1.0,
            ..Faults::none()
        });
        let drawn: Vec<_> = (0..3).map(|_| state.draw().0).collect();
        assert_eq!(
            drawn,
            [Fault::Status(500), Fault::Status(502), Fault::Status(503)]
        );
    }

    #[test]
    fn error_statuses_can_be_chosen_and_rotate() {
        let mut state = FaultState::new(Faults {
            error_rate: 1.0,
            error_statuses: "502,503,504".parse().unwrap(),
            ..Faults::none()
        });
        let drawn: Vec<_> = (0..4).map(|_| state.draw().0).collect();
        assert_eq!(
            drawn,
            [
                Fault::Status(502),
                Fault::Status(503),
                Fault::Status(504),
                Fault::Status(502)
            ]
        );
    }

    #[test]
    fn error_statuses_are_checked() {
        for bad in [
            "",
            "200",
            "502,abc",
            "600",
            "500,500,500,500,500,500,500,500,500",
        ] {
            assert!(bad.parse::<ErrorStatuses>().is_err(), "{bad:?}");
        }
        assert_eq!("503".parse::<ErrorStatuses>().unwrap().as_slice(), [503]);
    }

    #[test]
    fn same_seed_same_faults() {
        let faults = Faults {
            error_rate: 0.2,
            drop_rate: 0.2,
            truncate_rate: 0.2,
            latency: Latency::Range(Duration::from_millis(1), Duration::from_millis(9)),
            seed: 5,
            ..Faults::none()
        };
        let mut a = FaultState::new(faults);
        let mut b = FaultState::new(faults);
        for _ in 0..100 {
            let (fault, latency) = a.draw();
            assert_eq!((fault, latency), b.draw());
            assert!(latency >= Duration::from_millis(1) && latency <= Duration::from_millis(9));
        }
    }
}
