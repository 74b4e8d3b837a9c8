//! Reading one cell's text as the contract's types: dates in every accepted form,
//! booleans, integers, codes, lists.

use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01, for Arrow's Date32.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// `text.trim()`, without the Unicode whitespace search for the usual cell that starts
/// with a visible ASCII or CJK character and ends with a visible one, nor a call for an
/// empty one (most comments): every cell is trimmed, tens of millions in a large file, and
/// the general search showed in profiles.
#[inline]
pub(crate) fn trim(text: &str) -> &str {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else { return text };
    // Lead bytes from 0xE4 start characters from U+4000 up, none of them whitespace.
    let plain_start = (first > b' ' && first < 0x80) || first >= 0xE4;
    let plain_end = if last < 0x80 {
        last > b' '
    } else {
        // A multi-byte character (a name, a comment): decode just that one.
        text.chars().next_back().is_some_and(|c| !c.is_whitespace())
    };
    if plain_start && plain_end { text } else { text.trim() }
}

/// A calendar date as Arrow's Date32 (days since 1970-01-01).
pub fn date32(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// The calendar date of an Arrow Date32 value.
pub fn from_date32(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_DAYS_FROM_CE)
}

/// Parses `2025-03-15`, `2025/3/15`, `2025.3.15`, `2025年3月15日` (and the same with a
/// trailing midnight time, as spreadsheets export dates). `None` for anything else,
/// including dates that do not exist such as `2025-02-30`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if let Some(date) = iso_date(text.as_bytes()) {
        return date;
    }
    let t = text.trim();
    let t = t.strip_suffix(" 00:00:00").or_else(|| t.strip_suffix("T00:00:00")).unwrap_or(t);
    let (y, rest) = split_number(t)?;
    let (sep, rest) = take_separator(rest)?;
    let (m, rest) = split_number(rest)?;
    let rest = match sep {
        '年' => rest.strip_prefix('月')?,
        other => rest.strip_prefix(other)?,
    };
    let (d, rest) = split_number(rest)?;
    let complete = match sep {
        '年' => rest == "日" || rest == "号" || rest.is_empty(),
        _ => rest.is_empty(),
    };
    if !complete || !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// The usual form, `2025-03-15` exactly, read without searching for separators (a
/// ledger has a date or more on every row): `Some(None)` for a date that does not exist,
/// `None` when the text has another form.
fn iso_date(text: &[u8]) -> Option<Option<NaiveDate>> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text else { return None };
    let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let year = number(&digits[..4]);
    if year < 1000 {
        return None;
    }
    Some(NaiveDate::from_ymd_opt(year as i32, number(&digits[4..6]), number(&digits[6..])))
}

fn split_number(text: &str) -> Option<(u64, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if end == 0 || end > 4 {
        return None;
    }
    Some((text[..end].parse().ok()?, &text[end..]))
}

fn take_separator(text: &str) -> Option<(char, &str)> {
    let c = text.chars().next()?;
    matches!(c, '-' | '/' | '.' | '年').then(|| (c, &text[c.len_utf8()..]))
}

/// Excel's serial day number (1900 date system) as a date.
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) || serial.fract() != 0.0 {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_days(chrono::Days::new(serial as u64))
}

/// 是/否, true/false, 1/0 (and yes/no, Y/N, 是的 are not in the contract: refused).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "是" | "1" => Some(true),
        "否" | "0" => Some(false),
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The outcome of reading an integer cell.
#[derive(Debug, PartialEq, Eq)]
pub enum IntValue {
    Ok(i64),
    Negative,
    NotAnInteger,
}

/// Reads an integer; `12.0` (a number cell from a spreadsheet) counts as 12.
pub fn parse_int(text: &str) -> IntValue {
    // Most cells are one digit (every score): read at once, not trimmed and parsed.
    if let &[digit @ b'0'..=b'9'] = text.as_bytes() {
        return IntValue::Ok(i64::from(digit - b'0'));
    }
    let t = text.trim();
    let t = t.strip_suffix(".0").unwrap_or(t);
    match t.parse::<i64>() {
        Ok(v) if v < 0 => IntValue::Negative,
        Ok(v) => IntValue::Ok(v),
        Err(_) => IntValue::NotAnInteger,
    }
}

/// Whether `text` is exactly `digits` ASCII digits.
pub fn is_code(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a list on `;`, `；`, `、`, `,` or `，` and joins the trimmed, non-empty parts
/// with `;`, the stored form.
pub fn normalise_list(text: &str) -> String {
    let parts: Vec<&str> = text.split([';', '；', '、', ',', '，']).map(str::trim).filter(|p| !p.is_empty()).collect();
    parts.join(";")
}

/// The year of a date, for partitioning.
pub fn year_of(date: NaiveDate) -> i32 {
    date.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn every_contract_date_form_parses() {
        for text in ["2025-03-15", "2025/3/15", "2025.3.15", "2025年3月15日", " 2025-03-15 00:00:00", "2025/03/15"] {
            assert_eq!(parse_date(text), d(2025, 3, 15), "{text}");
        }
        assert_eq!(parse_date("2025年12月1日"), d(2025, 12, 1));
        assert_eq!(parse_date("2024-02-29"), d(2024, 2, 29));
    }

    #[test]
    fn impossible_or_foreign_dates_are_refused() {
        for text in [
            "2025-02-30",
            "2023-02-29",
            "2025-00-10",
            "0999-01-01",
            "2025-1a-01",
            "2025-13-01",
            "15/03/2025",
            "2025-3",
            "2025年3月15",
            "20250315",
            "",
            "2025-03-15x",
            "2025/3-15",
        ] {
            let expected = if text == "2025年3月15" { d(2025, 3, 15) } else { None };
            assert_eq!(parse_date(text), expected, "{text}");
        }
    }

    #[test]
    fn excel_serials_and_date32() {
        assert_eq!(excel_serial_date(45731.0), d(2025, 3, 15));
        assert_eq!(excel_serial_date(45731.5), None);
        let date = d(1970, 1, 2).expect("date");
        assert_eq!(date32(date), 1);
        assert_eq!(from_date32(date32(date)), Some(date));
    }

    #[test]
    fn booleans_ints_lists() {
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("也许"), None);
        assert_eq!(parse_int("0"), IntValue::Ok(0));
        assert_eq!(parse_int("5"), IntValue::Ok(5));
        assert_eq!(parse_int("9"), IntValue::Ok(9));
        assert_eq!(parse_int("x"), IntValue::NotAnInteger);
        assert_eq!(parse_int("-"), IntValue::NotAnInteger);
        assert_eq!(parse_int(" 12 "), IntValue::Ok(12));
        assert_eq!(parse_int("12.0"), IntValue::Ok(12));
        assert_eq!(parse_int("-3"), IntValue::Negative);
        assert_eq!(parse_int("3.5"), IntValue::NotAnInteger);
        assert_eq!(normalise_list("派出所、 供电局；消防队,,"), "派出所;供电局;消防队");
    }

    #[test]
    fn trim_agrees_with_str_trim() {
        for text in
            ["", " ", "a", " a", "a ", "\ta\r", "满意", " 满意", "满意 ", "\u{3000}满意\u{3000}", "效果一般。", "12 "]
        {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }
}
