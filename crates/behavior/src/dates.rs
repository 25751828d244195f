//! Calendar dates as whole days since 1970-01-01 (proleptic Gregorian), the
//! time unit of the customer models. Parsing accepts `YYYYMMDD`,
//! `YYYY-MM-DD` and `YYYY-MM-DD HH:MM[:SS]` (the time of day is kept as a
//! fraction by [`parse_timestamp`]).

use crate::error::{Error, Result};

/// Days since 1970-01-01 of a valid civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Result<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
        return Err(Error::Invalid(format!(
            "no such date {year:04}-{month:02}-{day:02}"
        )));
    }
    // Shift the year to start in March so the leap day is the last day.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

/// (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn number(s: &str, what: &str, text: &str) -> Result<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Invalid(format!("bad {what} in date {text:?}")));
    }
    s.parse()
        .map_err(|_| Error::Invalid(format!("bad {what} in date {text:?}")))
}

/// Parses a date (`YYYYMMDD` or `YYYY-MM-DD`, optionally followed by a time)
/// to its day number.
pub fn parse_day(text: &str) -> Result<i64> {
    Ok(parse_timestamp(text)?.floor() as i64)
}

/// Parses a date with an optional ` HH:MM[:SS]` to fractional days.
pub fn parse_timestamp(text: &str) -> Result<f64> {
    let text = text.trim();
    let (date, time) = match text.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let (y, m, d) = if date.len() == 8 && !date.contains('-') {
        (&date[..4], &date[4..6], &date[6..])
    } else {
        let mut parts = date.split('-');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(y), Some(m), Some(d), None) => (y, m, d),
            _ => return Err(Error::Invalid(format!("unrecognised date {text:?}"))),
        }
    };
    let days = days_from_civil(
        number(y, "year", text)?,
        number(m, "month", text)? as u32,
        number(d, "day", text)? as u32,
    )?;
    let mut fraction = 0.0;
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(Error::Invalid(format!("unrecognised time in {text:?}")));
        }
        let h = number(parts[0], "hour", text)?;
        let mi = number(parts[1], "minute", text)?;
        let s = if parts.len() == 3 {
            number(parts[2], "second", text)?
        } else {
            0
        };
        if h > 23 || mi > 59 || s > 60 {
            return Err(Error::Invalid(format!("time out of range in {text:?}")));
        }
        fraction = (h * 3600 + mi * 60 + s) as f64 / 86_400.0;
    }
    Ok(days as f64 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_map_to_known_day_numbers() {
        assert_eq!(days_from_civil(1970, 1, 1).unwrap(), 0);
        assert_eq!(days_from_civil(2000, 3, 1).unwrap(), 11_017);
        assert_eq!(
            parse_day("19970930").unwrap() - parse_day("1997-01-01").unwrap(),
            272
        );
        assert_eq!(
            format_day(parse_day("2011-12-09 12:50:00").unwrap()),
            "2011-12-09"
        );
        assert!((parse_timestamp("2011-01-02 12:00").unwrap().fract() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn civil_round_trips_over_four_centuries() {
        for d in (-200_000..200_000).step_by(37) {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day).unwrap(), d);
        }
    }

    #[test]
    fn bad_dates_are_refused() {
        for bad in [
            "2011-02-30",
            "19971301",
            "2011-1",
            "abc",
            "2011-01-01 25:00",
            "",
        ] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }
}
