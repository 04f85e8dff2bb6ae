//! Dates (`25/12/2018`, `2018-12-25`, `25 Dec 2018`, `12-25-18`, `25.12.18`)
//! and times (`12:31`, `23:05:10`, `11:11 PM`).

use crate::domain::receipt::{DateOrder, is_calendar_day};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date found in a text and how sure its reading is (0..=1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoundDate {
    pub date: Date,
    pub certainty: f32,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn make(year: u32, month: u32, day: u32) -> Option<Date> {
    let year = if year < 100 { 2000 + year } else { year };
    if !(1970..=2099).contains(&year) || !is_calendar_day(year, month, day) {
        return None;
    }
    Some(Date { year, month, day })
}

fn month_of(word: &str) -> Option<u32> {
    let upper = word.to_uppercase();
    if upper.len() < 3 || upper.len() > 9 {
        return None;
    }
    let head = upper.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == head)?;
    u32::try_from(index + 1).ok()
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Num(String),
    Word(String),
    Sep(char),
}

/// Splits text into digit runs, letter runs and separators; OCR letters
/// inside digit runs (`2O18`) are read as digits.
fn parts(text: &str) -> Vec<Part> {
    let chars: Vec<char> = text.chars().take(400).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let digitish = |k: usize| {
            chars
                .get(k)
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, 'O' | 'o' | 'l' | 'I'))
        };
        let starts_number = c.is_ascii_digit()
            || (matches!(c, 'O' | 'o' | 'l' | 'I')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && !i
                    .checked_sub(1)
                    .and_then(|k| chars.get(k))
                    .is_some_and(|p| p.is_alphabetic()));
        if starts_number {
            let mut run = String::new();
            while i < chars.len() && digitish(i) {
                run.push(match chars[i] {
                    'O' | 'o' => '0',
                    'l' | 'I' => '1',
                    d => d,
                });
                i += 1;
            }
            out.push(Part::Num(run));
        } else if c.is_alphabetic() {
            let mut run = String::new();
            while i < chars.len() && chars[i].is_alphabetic() {
                run.push(chars[i]);
                i += 1;
            }
            out.push(Part::Word(run));
        } else {
            out.push(Part::Sep(c));
            i += 1;
        }
    }
    out
}

fn num(part: Option<&Part>) -> Option<(u32, usize)> {
    match part {
        Some(Part::Num(n)) if n.len() <= 4 => Some((n.parse().ok()?, n.len())),
        _ => None,
    }
}

fn sep(part: Option<&Part>) -> Option<char> {
    match part {
        Some(Part::Sep(c)) => Some(*c),
        _ => None,
    }
}

/// Numeric day, month (either order) and year, or ISO year-month-day.
fn numeric(
    a: (u32, usize),
    b: (u32, usize),
    c: (u32, usize),
    order: DateOrder,
) -> Option<FoundDate> {
    if a.1 == 4 {
        let date = make(a.0, b.0, c.0)?;
        return Some(FoundDate {
            date,
            certainty: 0.95,
        });
    }
    if c.1 != 4 && c.1 != 2 || a.1 > 2 || b.1 > 2 {
        return None;
    }
    let year_certainty = if c.1 == 4 { 0.0 } else { 0.05 };
    let day_first = make(c.0, b.0, a.0);
    let month_first = make(c.0, a.0, b.0);
    let (date, certainty) = match (day_first, month_first) {
        (Some(d), Some(m)) if d == m => (d, 0.95),
        (Some(d), Some(m)) => match order {
            DateOrder::DayFirst => (d, 0.8),
            DateOrder::MonthFirst => (m, 0.8),
        },
        // Only the reading against the receipt's date order is possible:
        // more often a misread digit (`01/16/2017` for `01/10/2017`) than a
        // foreign date, so it yields to any date read in the expected order.
        (Some(d), None) => match order {
            DateOrder::DayFirst => (d, 0.9),
            DateOrder::MonthFirst => (d, 0.4),
        },
        (None, Some(m)) => match order {
            DateOrder::DayFirst => (m, 0.4),
            DateOrder::MonthFirst => (m, 0.9),
        },
        (None, None) => return None,
    };
    Some(FoundDate {
        date,
        certainty: certainty - year_certainty,
    })
}

/// Every date in `text`, in order.
pub fn find_dates(text: &str, order: DateOrder) -> Vec<FoundDate> {
    let parts = parts(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = |k: usize| parts.get(k);
        // Numeric: N sep N sep N with the same separator.
        if let (Some(a), Some(s1), Some(b), Some(s2), Some(c)) = (
            num(p(i)),
            sep(p(i + 1)),
            num(p(i + 2)),
            sep(p(i + 3)),
            num(p(i + 4)),
        ) && s1 == s2
            && "/-.".contains(s1)
            && !matches!(i.checked_sub(1).and_then(&p), Some(Part::Word(_)))
            && !matches!(p(i + 5), Some(Part::Num(_)))
            && !(matches!(p(i + 5), Some(Part::Sep('.' | ',')))
                && matches!(p(i + 6), Some(Part::Num(_))))
            && let Some(date) = numeric(a, b, c, order)
        {
            found.push(date);
            i += 5;
            continue;
        }
        // Day, month name, year: `25 Dec 2018`, `25-Dec-18`.
        if let Some(day) = num(p(i))
            && day.1 <= 2
        {
            let mut k = i + 1;
            while matches!(p(k), Some(Part::Sep(' ' | '-' | '/' | '.'))) && k < i + 3 {
                k += 1;
            }
            if let Some(Part::Word(w)) = p(k)
                && let Some(month) = month_of(w)
            {
                let mut m = k + 1;
                while matches!(p(m), Some(Part::Sep(' ' | '-' | '/' | '.' | ','))) && m < k + 3 {
                    m += 1;
                }
                if let Some(year) = num(p(m))
                    && (year.1 == 4 || year.1 == 2)
                    && let Some(date) = make(year.0, month, day.0)
                {
                    found.push(FoundDate {
                        date,
                        certainty: 0.95,
                    });
                    i = m + 1;
                    continue;
                }
            }
        }
        // Month name, day, year: `Dec 25, 2018`.
        if let Some(Part::Word(w)) = p(i)
            && let Some(month) = month_of(w)
        {
            let mut k = i + 1;
            while matches!(p(k), Some(Part::Sep(' ' | '-' | '.'))) && k < i + 3 {
                k += 1;
            }
            if let Some(day) = num(p(k))
                && day.1 <= 2
            {
                let mut m = k + 1;
                while matches!(p(m), Some(Part::Sep(' ' | '-' | '.' | ','))) && m < k + 3 {
                    m += 1;
                }
                if let Some(year) = num(p(m))
                    && year.1 == 4
                    && let Some(date) = make(year.0, month, day.0)
                {
                    found.push(FoundDate {
                        date,
                        certainty: 0.9,
                    });
                    i = m + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

/// Every time of day in `text` as `HH:MM` or `HH:MM:SS`, in order.
pub fn find_times(text: &str) -> Vec<String> {
    let parts = parts(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = |k: usize| parts.get(k);
        if let (Some(h), Some(':'), Some(m)) = (num(p(i)), sep(p(i + 1)), num(p(i + 2)))
            && h.1 <= 2
            && m.1 == 2
            && h.0 < 24
            && m.0 < 60
            && !matches!(i.checked_sub(1).and_then(&p), Some(Part::Sep(':')))
        {
            let mut hour = h.0;
            let mut next = i + 3;
            let mut second = None;
            if let (Some(':'), Some(s)) = (sep(p(next)), num(p(next + 1)))
                && s.1 == 2
                && s.0 < 60
            {
                second = Some(s.0);
                next += 2;
            }
            let mut k = next;
            if matches!(p(k), Some(Part::Sep(' '))) {
                k += 1;
            }
            if let Some(Part::Word(w)) = p(k) {
                let w = w.to_uppercase();
                if (w == "PM" || w == "P") && hour < 12 {
                    hour += 12;
                } else if (w == "AM" || w == "A") && hour == 12 {
                    hour = 0;
                }
            }
            found.push(match second {
                Some(s) => format!("{hour:02}:{:02}:{s:02}", m.0),
                None => format!("{hour:02}:{:02}", m.0),
            });
            i = next;
            continue;
        }
        i += 1;
    }
    found
}
