//! The two duration syntaxes on the wire: protobuf JSON durations (`"10s"`, `"1.5s"`, ZITADEL)
//! and ISO-8601 durations (`"PT1H"`, `"P7D"`, SailPoint). Both parse into [`std::time::Duration`]
//! and format back into their canonical form.

use std::time::Duration;

/// Parses a protobuf JSON duration: an optional sign, seconds with up to 9 fractional digits,
/// and the suffix `s`. Negative values are rejected because no Switchyard field accepts them.
pub fn parse_proto(s: &str) -> Result<Duration, String> {
    let body = s
        .strip_suffix('s')
        .ok_or_else(|| format!("'{s}' is not a duration: expected seconds with an 's' suffix, e.g. \"10s\" or \"1.5s\""))?;
    if body.starts_with('-') {
        return Err(format!("'{s}' is negative"));
    }
    let body = body.strip_prefix('+').unwrap_or(body);
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    let valid_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || !valid_digits(secs) || !valid_digits(frac) || frac.len() > 9 {
        return Err(format!("'{s}' is not a duration: expected seconds with an 's' suffix, e.g. \"10s\" or \"1.5s\""));
    }
    let secs: u64 = secs.parse().map_err(|_| format!("'{s}' is out of range"))?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().unwrap_or(0)
    };
    Ok(Duration::new(secs, nanos))
}

/// Formats a duration the way protobuf JSON does: `"10s"`, `"1.500s"` (3, 6 or 9 fraction digits).
pub fn format_proto(d: Duration) -> String {
    let nanos = d.subsec_nanos();
    if nanos == 0 {
        format!("{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}.{:03}s", d.as_secs(), nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{}.{:06}s", d.as_secs(), nanos / 1_000)
    } else {
        format!("{}.{:09}s", d.as_secs(), nanos)
    }
}

/// Parses an ISO-8601 duration with day and time parts (`P1D`, `PT1H30M`, `PT0.5S`, `P1DT2H`).
/// Years and months are rejected: their length is not fixed.
pub fn parse_iso8601(s: &str) -> Result<Duration, String> {
    let bad =
        || format!("'{s}' is not an ISO-8601 duration such as \"PT1H\", \"PT30S\" or \"P7D\"");
    let rest = s.strip_prefix('P').ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    let mut total_ms: u128 = 0;
    let mut parse_part = |part: &str, units: &[(char, u128)]| -> Result<(), String> {
        let mut num = String::new();
        let mut last_unit = None::<usize>;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let idx = units.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
            if num.is_empty() || last_unit.is_some_and(|l| l >= idx) {
                return Err(bad());
            }
            // Exact and checked: a tenant can write any number of digits, and a rounded or
            // wrapped sum would pass range checks with a meaning nobody wrote.
            let ms = decimal_times(&num, units[idx].1).ok_or_else(bad)?;
            total_ms = total_ms.checked_add(ms).ok_or_else(bad)?;
            num.clear();
            last_unit = Some(idx);
        }
        if num.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    if date.contains(['Y', 'M']) {
        return Err(format!(
            "'{s}': years and months are not allowed; use days (P30D)"
        ));
    }
    parse_part(date, &[('W', 7 * 86_400_000), ('D', 86_400_000)])?;
    if let Some(t) = time {
        parse_part(t, &[('H', 3_600_000), ('M', 60_000), ('S', 1_000)])?;
    }
    u64::try_from(total_ms)
        .map(Duration::from_millis)
        .map_err(|_| bad())
}

/// `number × unit` for a decimal `number` (`12`, `0.5`, up to 9 fraction digits), rounded to a
/// whole millisecond; `None` when malformed or too large.
fn decimal_times(number: &str, unit_ms: u128) -> Option<u128> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let whole = if int.is_empty() {
        0
    } else {
        int.parse::<u128>().ok()?.checked_mul(unit_ms)?
    };
    if frac.is_empty() {
        return Some(whole);
    }
    let scale = 10u128.pow(frac.len() as u32);
    let part = (frac.parse::<u128>().ok()? * unit_ms + scale / 2) / scale;
    whole.checked_add(part)
}

/// Formats a duration as ISO-8601 (`PT1H`, `P7D`, `PT1M30S`, `PT0.5S`).
pub fn format_iso8601(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "PT0S".to_string();
    }
    let days = ms / 86_400_000;
    let mut rem = ms % 86_400_000;
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rem > 0 {
        out.push('T');
        let h = rem / 3_600_000;
        rem %= 3_600_000;
        let m = rem / 60_000;
        rem %= 60_000;
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if rem > 0 {
            if rem.is_multiple_of(1000) {
                out.push_str(&format!("{}S", rem / 1000));
            } else {
                out.push_str(&format!("{}.{:03}S", rem / 1000, rem % 1000));
            }
        }
    }
    out
}

/// Parses a human duration list entry such as `5s`, `2m`, `1h`, `1d`, `250ms` (config files and
/// environment variables).
pub fn parse_human(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration such as 5s, 2m, 1h or 1d"))?;
    let ms = match unit {
        "ms" => value,
        "s" | "" => value * 1e3,
        "m" => value * 60e3,
        "h" => value * 3600e3,
        "d" => value * 86_400e3,
        _ => return Err(format!("'{s}' has an unknown unit; use ms, s, m, h or d")),
    };
    Ok(Duration::from_millis(ms.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_durations_parse_and_format() {
        assert_eq!(parse_proto("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_proto("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(
            parse_proto("0.000000001s").unwrap(),
            Duration::from_nanos(1)
        );
        assert!(parse_proto("10").is_err());
        assert!(parse_proto("-1s").is_err());
        assert!(parse_proto("1.2.3s").is_err());
        assert!(parse_proto("s").is_err());
        assert!(parse_proto("1.0000000001s").is_err());
        assert_eq!(format_proto(Duration::from_secs(10)), "10s");
        assert_eq!(format_proto(Duration::from_millis(1500)), "1.500s");
    }

    #[test]
    fn huge_iso_durations_are_refused_not_wrapped() {
        let huge = format!("PT{}H170M0S", "7".repeat(60));
        assert!(parse_iso8601(&huge).is_err());
        assert!(parse_iso8601("P99999999999999999999999D").is_err());
        assert!(parse_iso8601("PT1e308S").is_err());
        let exact = parse_iso8601("PT184467743674437M").unwrap();
        assert_eq!(exact.as_millis(), 184_467_743_674_437 * 60_000);
        assert_eq!(parse_iso8601("PT0.5S").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_iso8601("PT.25S").unwrap(), Duration::from_millis(250));
        assert!(parse_iso8601("PT1.2.3S").is_err());
        assert!(parse_iso8601("PT.S").is_err());
        assert!(parse_iso8601(&format!(
            "P{}DT{}H",
            u64::MAX / 86_400_000,
            u64::MAX / 3_600_000
        ))
        .is_err());
    }

    #[test]
    fn iso_durations_parse_and_format() {
        assert_eq!(parse_iso8601("PT1H").unwrap(), Duration::from_secs(3600));
        assert_eq!(
            parse_iso8601("P7D").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_iso8601("PT1M30S").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_iso8601("PT0.5S").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_iso8601("P1DT2H").unwrap(), Duration::from_secs(93600));
        for bad in ["", "P", "PT", "1H", "PT1X", "P1M", "PTH", "PT1S1M", "P1DT"] {
            assert!(parse_iso8601(bad).is_err(), "{bad} should fail");
        }
        assert_eq!(format_iso8601(Duration::from_secs(3600)), "PT1H");
        assert_eq!(format_iso8601(Duration::from_secs(7 * 86400)), "P7D");
        assert_eq!(format_iso8601(Duration::from_secs(90)), "PT1M30S");
        assert_eq!(format_iso8601(Duration::from_millis(500)), "PT0.500S");
    }

    #[test]
    fn human_durations() {
        assert_eq!(parse_human("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_human("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_human("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_human("5x").is_err());
    }
}
