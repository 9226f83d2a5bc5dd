//! Numbers as serde_json writes them, their text built in an integer and appended with one
//! store of fixed size.
//!
//! A page of 100 calls holds about 1 600 numbers. serde_json formats each with `itoa` into a
//! buffer, then copies the text, whose length varies: a call to `memcpy` per number (12% of the
//! sandbox's CPU under load, in a profile). Digits written into an array on the stack and
//! copied from there whole cost nearly as much: the copy waits for the small stores before it
//! (store forwarding fails). Here a number's text is built in a `u128`, two digits at a time
//! from a table, which is stored whole, once; the bytes past the number are then cut off
//! (`Vec::truncate`, which only sets the length).
//!
//! The tests compare every function with serde_json over the whole range of its input.

/// 10^16: below it, a number's text fits a [`text`].
const TEN_16: u64 = 10_000_000_000_000_000;

/// 10^8.
const EIGHT: u64 = 100_000_000;

/// The text of 0 to 99, two digits each, as a `u16` whose bytes are the text (little-endian).
pub(super) const PAIRS: [u16; 100] = {
    let mut pairs = [0u16; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = u16::from_le_bytes([b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
        n += 1;
    }
    pairs
};

/// The text of `n` (below 10^16) as a `u128` whose first bytes (little-endian) are its digits,
/// and its length. Built from the last digits: each pair before goes in the lowest bytes.
fn text(mut n: u64) -> (u128, usize) {
    let mut text = 0u128;
    let mut len = 0;
    while n >= 100 {
        text = text << 16 | u128::from(PAIRS[(n % 100) as usize]);
        n /= 100;
        len += 2;
    }
    if n >= 10 {
        (text << 16 | u128::from(PAIRS[n as usize]), len + 2)
    } else {
        (text << 8 | u128::from(b'0' + n as u8), len + 1)
    }
}

/// Appends the first `len` bytes of `text`: the whole `u128` (one store of fixed size), then
/// the rest cut off.
fn put(out: &mut Vec<u8>, (text, len): (u128, usize)) {
    let at = out.len();
    out.extend_from_slice(&text.to_le_bytes());
    out.truncate(at + len);
}

/// Appends `n` as serde_json writes an integer.
pub(super) fn write_u64(out: &mut Vec<u8>, n: u64) {
    if n < TEN_16 {
        put(out, text(n));
    } else {
        // All but its last eight digits, then those eight: the text of `10^8 + rest` less its
        // `1`.
        put(out, text(n / EIGHT));
        let (rest, _) = text(EIGHT + n % EIGHT);
        put(out, (rest >> 8, 8));
    }
}

/// Appends `n` as serde_json writes an integer.
pub(super) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// [`write_decimal`] writes its own digits below this many units (1e9): the `f64`'s spacing
/// there is about 1e-7, and serde_json writes no exponent up to 1e16.
const DECIMAL_BELOW: u64 = 1_000_000_000;

/// Whether `n` is 1, 10, 100, ...
const fn is_power_of_ten(mut n: u64) -> bool {
    while n > 1 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

/// Appends `units / SCALE` (`SCALE` a power of ten, at most 10^4), the `f64` nearest to it,
/// as serde_json writes that `f64`.
///
/// serde_json writes the shortest decimal that reads back as the same `f64`; for `units /
/// SCALE` below [`DECIMAL_BELOW`] that is its own decimal digits, trailing zeros dropped (a
/// shorter decimal differs by at least `1 / SCALE`, far more than the `f64`'s precision there),
/// with `.0` when it is whole. Larger values are written by serde_json itself.
pub(super) fn write_decimal<const SCALE: u64>(out: &mut Vec<u8>, units: u64) {
    const {
        assert!(
            is_power_of_ten(SCALE) && SCALE <= 10_000,
            "SCALE is 1, 10, 100, 1000 or 10 000"
        );
    };
    let whole = units / SCALE;
    if whole >= DECIMAL_BELOW {
        let value = units as f64 / SCALE as f64;
        // An f64 is always written (a number, or `null` were it not finite).
        let _ = serde::Serializer::serialize_f64(&mut serde_json::Serializer::new(out), value);
        return;
    }
    put(out, text(whole));
    let mut fraction = units % SCALE;
    if fraction == 0 {
        out.extend_from_slice(b".0");
        return;
    }
    // The fraction's digits (as many as SCALE has zeros, with leading zeros), less trailing
    // zeros, after the point: the text of `10^places + fraction`, its leading `1` made the
    // point.
    let mut places = SCALE.ilog10();
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        places -= 1;
    }
    let (digits, len) = text(10u64.pow(places) + fraction);
    put(out, (digits & !0xFF | u128::from(b'.'), len));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(value: impl serde::Serialize) -> String {
        serde_json::to_string(&value).expect("serializes")
    }

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        // After some text already there, which must stay.
        let mut out = b"[1,".to_vec();
        write(&mut out);
        let text = String::from_utf8(out).expect("UTF-8");
        text.strip_prefix("[1,")
            .expect("the text before")
            .to_owned()
    }

    fn decimal(units: u64, scale: u64) -> String {
        written(|out| match scale {
            1 => write_decimal::<1>(out, units),
            10 => write_decimal::<10>(out, units),
            100 => write_decimal::<100>(out, units),
            1000 => write_decimal::<1000>(out, units),
            10_000 => write_decimal::<10_000>(out, units),
            _ => panic!("no scale {scale} here"),
        })
    }

    const SCALES: [u64; 5] = [1, 10, 100, 1000, 10_000];

    proptest::proptest! {
        #[test]
        fn integers_are_written_as_serde_json_writes_them(
            signed in proptest::num::i64::ANY,
            unsigned in proptest::num::u64::ANY,
            small in -1000i64..1000,
        ) {
            for n in [signed, small] {
                proptest::prop_assert_eq!(written(|out| write_i64(out, n)), serde(n));
            }
            proptest::prop_assert_eq!(written(|out| write_u64(out, unsigned)), serde(unsigned));
        }

        /// Every whole number of hundredths, thousandths, ten-thousandths (and units and
        /// tenths) a call can hold (`u32` numerators), and beyond, up to where serde_json
        /// takes over, and past it.
        #[test]
        fn decimals_are_written_as_serde_json_writes_them(
            units in proptest::prop_oneof![
                0u64..100_000,
                0u64..=u64::from(u32::MAX),
                0u64..1 << 53,
                proptest::num::u64::ANY,
            ],
        ) {
            for scale in SCALES {
                let value = units as f64 / scale as f64;
                proptest::prop_assert_eq!(decimal(units, scale), serde(value), "{} / {}", units, scale);
            }
        }
    }

    #[test]
    fn integers_at_the_edges() {
        for n in [
            0,
            1,
            -1,
            9,
            10,
            99,
            100,
            101,
            i64::MIN,
            i64::MAX,
            -1_000_000_000,
        ] {
            assert_eq!(written(|out| write_i64(out, n)), serde(n));
        }
        for p in 0..20 {
            let n = 10u64.pow(p);
            for n in [n - 1, n, n + 1] {
                assert_eq!(written(|out| write_u64(out, n)), serde(n));
            }
        }
        assert_eq!(written(|out| write_u64(out, u64::MAX)), serde(u64::MAX));
    }

    #[test]
    fn decimals_at_the_edges() {
        for scale in SCALES {
            for units in 0..30_000 {
                let value = units as f64 / scale as f64;
                assert_eq!(decimal(units, scale), serde(value), "{units} / {scale}");
            }
            let below = DECIMAL_BELOW * scale;
            for units in [below - 1, below, below + 1, u64::MAX] {
                let value = units as f64 / scale as f64;
                assert_eq!(decimal(units, scale), serde(value), "{units} / {scale}");
            }
        }
    }
}
