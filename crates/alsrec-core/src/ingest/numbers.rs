//! Hand-rolled parsers for the numeric fields of ratings files. They accept exactly what
//! MovieLens writes and fall back to the standard library for anything unusual, so that they
//! are fast on the common case and never wrong on the rare one.

/// Ids must survive the trip through a JavaScript number (a double).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// Why a field was refused; the texts double as the skip-reason categories of the report.
pub const NEGATIVE_ID: &str = "negative id";
pub const NOT_WHOLE_ID: &str = "id is not a whole number";
pub const ID_TOO_LARGE: &str = "id is larger than 2^53 - 1";
pub const RATING_NOT_NUMBER: &str = "rating is not a number";
pub const RATING_NOT_FINITE: &str = "rating is not a finite number";
pub const TIMESTAMP_NOT_WHOLE: &str = "timestamp is not a whole number";

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

/// A non-negative whole id.
pub fn parse_id(field: &[u8]) -> Result<u64, &'static str> {
    let f = trim(field);
    if f.is_empty() {
        return Err(NOT_WHOLE_ID);
    }
    if f.len() <= 15 && f.iter().all(u8::is_ascii_digit) {
        let v = f.iter().fold(0u64, |v, &b| v * 10 + (b - b'0') as u64);
        return if v > MAX_ID { Err(ID_TOO_LARGE) } else { Ok(v) };
    }
    if f.iter().all(u8::is_ascii_digit) {
        return match std::str::from_utf8(f)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        {
            Some(v) if v <= MAX_ID => Ok(v),
            _ => Err(ID_TOO_LARGE),
        };
    }
    if f[0] == b'-' && f.len() > 1 && f[1..].iter().all(u8::is_ascii_digit) {
        // "-0" is zero, not negative.
        return if f[1..].iter().all(|&b| b == b'0') {
            Ok(0)
        } else {
            Err(NEGATIVE_ID)
        };
    }
    Err(NOT_WHOLE_ID)
}

/// A finite rating. "D", "D.D" up to seven digits in all are computed as an exact integer over
/// an exact power of ten: one correctly rounded f32 division, the same value `str::parse` gives.
pub fn parse_rating(field: &[u8]) -> Result<f32, &'static str> {
    let f = trim(field);
    if let Some(v) = parse_short_decimal(f) {
        return Ok(v);
    }
    match std::str::from_utf8(f).ok().map(|s| s.parse::<f32>()) {
        Some(Ok(v)) if v.is_finite() => Ok(v),
        Some(Ok(_)) => Err(RATING_NOT_FINITE),
        _ => Err(RATING_NOT_NUMBER),
    }
}

fn parse_short_decimal(f: &[u8]) -> Option<f32> {
    const POW10: [f32; 8] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7];
    if f.is_empty() || f.len() > 8 {
        return None;
    }
    let mut mantissa: u32 = 0;
    let mut digits = 0usize;
    let mut frac_digits = 0usize;
    let mut seen_dot = false;
    for &b in f {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + (b - b'0') as u32;
                digits += 1;
                if seen_dot {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if digits == 0 || digits > 7 {
        return None;
    }
    Some(mantissa as f32 / POW10[frac_digits])
}

/// A whole number of seconds, possibly negative (dates before 1970).
pub fn parse_timestamp(field: &[u8]) -> Result<i64, &'static str> {
    let f = trim(field);
    let (neg, digits) = match f.first() {
        Some(b'-') => (true, &f[1..]),
        _ => (false, f),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(TIMESTAMP_NOT_WHOLE);
    }
    let v = digits.iter().fold(0i64, |v, &b| v * 10 + (b - b'0') as i64);
    Ok(if neg { -v } else { v })
}

/// The columns of a line the delimited reader splits: a ratings column past it is refused
/// with a message that says so.
pub(crate) const MAX_FIELDS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id(b"162541"), Ok(162541));
        assert_eq!(parse_id(b" 7 "), Ok(7));
        assert_eq!(parse_id(b"-3"), Err(NEGATIVE_ID));
        assert_eq!(parse_id(b"-0"), Ok(0));
        assert_eq!(parse_id(b"1.5"), Err(NOT_WHOLE_ID));
        assert_eq!(parse_id(b""), Err(NOT_WHOLE_ID));
        assert_eq!(parse_id(b"abc"), Err(NOT_WHOLE_ID));
        assert_eq!(parse_id(b"9007199254740991"), Ok(MAX_ID));
        assert_eq!(parse_id(b"9007199254740992"), Err(ID_TOO_LARGE));
        assert_eq!(parse_id(b"99999999999999999999999"), Err(ID_TOO_LARGE));
    }

    #[test]
    fn ratings_match_the_standard_parser() {
        for s in [
            "0.5",
            "3",
            "3.5",
            "4.0",
            "3.7",
            "2.25",
            "0.1",
            "5",
            "10",
            "1234.567",
            "0.0000001",
        ] {
            assert_eq!(
                parse_rating(s.as_bytes()),
                Ok(s.parse::<f32>().unwrap()),
                "{s}"
            );
        }
        assert_eq!(parse_rating(b"4e0"), Ok(4.0));
        assert_eq!(parse_rating(b"-1"), Ok(-1.0));
        assert_eq!(parse_rating(b"NaN"), Err(RATING_NOT_FINITE));
        assert_eq!(parse_rating(b"inf"), Err(RATING_NOT_FINITE));
        assert_eq!(parse_rating(b"good"), Err(RATING_NOT_NUMBER));
        assert_eq!(parse_rating(b""), Err(RATING_NOT_NUMBER));
        assert_eq!(parse_rating(b"."), Err(RATING_NOT_NUMBER));
        assert_eq!(parse_rating(b"3.5.1"), Err(RATING_NOT_NUMBER));
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp(b"1445714994"), Ok(1445714994));
        assert_eq!(parse_timestamp(b"-86400"), Ok(-86400));
        assert_eq!(parse_timestamp(b"12.5"), Err(TIMESTAMP_NOT_WHOLE));
        assert_eq!(parse_timestamp(b""), Err(TIMESTAMP_NOT_WHOLE));
    }
}
