//! Dates as bank files write them, to ISO `YYYY-MM-DD`, by a pattern in the
//! strftime style: `%Y` (four digits), `%y` (two: 70–99 are 19xx), `%m`
//! and `%d` (one or two digits), any other character literally. Only real
//! calendar days pass.

use crate::domain::receipt::is_iso_date;

/// `text` read with `pattern` (e.g. `%d.%m.%Y`), as `YYYY-MM-DD`.
pub fn parse_date(text: &str, pattern: &str) -> Result<String, String> {
    let text = text.trim();
    let fail = || format!("{text:?} is not a date written as {pattern}");
    let (mut year, mut month, mut day) = (None, None, None);
    let mut rest = text;
    let mut spec = pattern.chars();
    while let Some(p) = spec.next() {
        if p != '%' {
            rest = rest.strip_prefix(p).ok_or_else(fail)?;
            continue;
        }
        let field = spec
            .next()
            .ok_or_else(|| format!("the date format {pattern:?} ends in %"))?;
        let (min, max) = match field {
            'Y' => (4, 4),
            'y' => (2, 2),
            'm' | 'd' => (1, 2),
            other => {
                return Err(format!(
                    "the date format {pattern:?} has an unknown field %{other}"
                ));
            }
        };
        let len = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return Err(fail());
        }
        let value: u32 = rest[..len].parse().map_err(|_| fail())?;
        rest = &rest[len..];
        match field {
            'Y' => year = Some(value),
            'y' => {
                year = Some(if value >= 70 {
                    1900 + value
                } else {
                    2000 + value
                })
            }
            'm' => month = Some(value),
            _ => day = Some(value),
        }
    }
    if !rest.is_empty() {
        return Err(fail());
    }
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(format!(
            "the date format {pattern:?} needs a year, a month and a day"
        ));
    };
    let iso = format!("{year:04}-{month:02}-{day:02}");
    if is_iso_date(&iso) {
        Ok(iso)
    } else {
        Err(format!("{text:?} is not a calendar day"))
    }
}

/// Whether `pattern` is a date format [`parse_date`] understands.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let sample = pattern
        .replace("%Y", "2001")
        .replace("%y", "01")
        .replace("%m", "02")
        .replace("%d", "03");
    match parse_date(&sample, pattern) {
        Ok(iso) if iso == "2001-02-03" => Ok(()),
        Ok(_) => Err(format!(
            "the date format {pattern:?} does not read a date back"
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bank_date_styles() {
        assert_eq!(
            parse_date("03.02.2026", "%d.%m.%Y"),
            Ok("2026-02-03".into())
        );
        assert_eq!(parse_date("2/3/26", "%m/%d/%y"), Ok("2026-02-03".into()));
        assert_eq!(parse_date("20260203", "%Y%m%d"), Ok("2026-02-03".into()));
        assert_eq!(
            parse_date(" 2026-02-03 ", "%Y-%m-%d"),
            Ok("2026-02-03".into())
        );
        assert!(parse_date("30.02.2026", "%d.%m.%Y").is_err());
        assert!(parse_date("03.02.2026x", "%d.%m.%Y").is_err());
        assert!(parse_date("3-2-2026", "%d.%m.%Y").is_err());
        assert!(check_pattern("%d.%m.%Y").is_ok());
        assert!(check_pattern("%d.%m").is_err());
        assert!(check_pattern("%q").is_err());
    }

    proptest! {
        #[test]
        fn any_text_is_a_date_or_an_error(text in "\\PC{0,16}", pattern in "(%[Yymd]|[./ -]){0,6}") {
            let _ = parse_date(&text, &pattern);
        }
    }
}
