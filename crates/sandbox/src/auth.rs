//! The tokens `tokenByAkSk` issues, and their expiry.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ccsqm_client::Secret;

/// Why a bearer token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    Unknown,
    Expired,
}

/// Issued tokens and when each expires. Tokens are random (seeded by the process's
/// `RandomState`, which the OS seeds) and never logged: `Debug` shows only their number.
pub(crate) struct Tokens {
    issued: Mutex<HashMap<String, Instant>>,
    random: RandomState,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issued = self.issued.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("Tokens").field("issued", &issued).finish()
    }
}

/// Above this many remembered tokens, expired ones are forgotten when a token is issued.
const PRUNE_ABOVE: usize = 10_000;

impl Tokens {
    pub fn new() -> Self {
        Self {
            issued: Mutex::new(HashMap::new()),
            random: RandomState::new(),
        }
    }

    /// Issues a token valid for `lifetime` from now.
    pub fn issue(&self, lifetime: Duration) -> Secret {
        let now = Instant::now();
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        if issued.len() > PRUNE_ABOVE {
            issued.retain(|_, expiry| *expiry > now);
        }
        let n = issued.len() as u64;
        let token = loop {
            let a = self.random.hash_one((n, now, 1u8));
            let b = self.random.hash_one((n, now, 2u8, a));
            let token = format!("{a:016x}{b:016x}");
            if !issued.contains_key(&token) {
                break token;
            }
        };
        issued.insert(token.clone(), now + lifetime);
        Secret::new(token)
    }

    /// Whether `token` was issued here and has not expired.
    pub fn check(&self, token: &str) -> Result<(), TokenError> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        match issued.get(token) {
            None => Err(TokenError::Unknown),
            Some(expiry) if *expiry <= Instant::now() => Err(TokenError::Expired),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_expire() {
        let tokens = Tokens::new();
        let a = tokens.issue(Duration::from_secs(60));
        let b = tokens.issue(Duration::from_secs(60));
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 32);
        assert_eq!(tokens.check(a.expose()), Ok(()));
        assert_eq!(tokens.check("nope"), Err(TokenError::Unknown));
        let gone = tokens.issue(Duration::ZERO);
        assert_eq!(tokens.check(gone.expose()), Err(TokenError::Expired));
    }
}
