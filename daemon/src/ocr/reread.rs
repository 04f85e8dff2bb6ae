//! A second, constrained reading of a word the first reading garbled.
//!
//! The recognition model gives, for each column of a word image, a
//! log-probability for every character and for "no character" (CTC). The
//! first reading takes the likeliest character of each column, which can turn
//! one stroke of a date into the wrong symbol: `12/01/2018` read `12101/2018`,
//! `04/12/2017` read `04/12/201i`. Here the same columns are read again,
//! forced into the shapes a date can take (digits and one kind of separator),
//! and the likeliest such reading is kept when it costs little against the
//! free one: the model's own evidence decides, no text is guessed. A word
//! with a `?` the model could not decide on is read again the same way,
//! without the `?`.

use crate::domain::receipt::DateOrder;

use super::extract::find_dates;

/// The recognition model's labels, in output order after the CTC blank (0).
/// The same string as ocrs' default; passed to ocrs too, so both agree.
pub const ALPHABET: &str = " 0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~EABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How much less likely (natural log) than the free reading a date reading may
/// be and still be taken: about two characters the model found plausible
/// but not first choice. A word the model clearly read as something else
/// costs far more.
const MAX_DATE_COST: f32 = 6.0;

/// Day, month and year digit groups a date is written in, year last unless
/// it comes first with four digits.
const DATE_GROUPS: [[usize; 3]; 6] = [
    [2, 2, 4],
    [2, 2, 2],
    [1, 2, 4],
    [2, 1, 4],
    [1, 1, 4],
    [4, 2, 2],
];
const DATE_SEPARATORS: [char; 3] = ['/', '-', '.'];

/// The class of `c` in the model's output (1-based: 0 is the blank).
fn class_of(c: char) -> Option<usize> {
    ALPHABET.chars().position(|a| a == c).map(|i| i + 1)
}

fn char_of(class: usize) -> char {
    ALPHABET.chars().nth(class - 1).unwrap_or('?')
}

/// A reading forced into a shape, and how much less likely it is than the
/// free reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Forced {
    pub text: String,
    pub cost: f32,
}

/// Reads the columns `log_probs` (one row a column, class 0 the blank) as a
/// date, or None when no date shape is likely enough.
pub fn read_date(log_probs: &[Vec<f32>], order: DateOrder) -> Option<Forced> {
    let digits: Vec<usize> = ('0'..='9').filter_map(class_of).collect();
    let free = free_score(log_probs);
    let mut best: Option<Forced> = None;
    for separator in DATE_SEPARATORS {
        let Some(separator) = class_of(separator) else {
            continue;
        };
        for groups in DATE_GROUPS {
            let mut shape: Vec<Vec<usize>> = Vec::new();
            for (i, len) in groups.iter().enumerate() {
                if i > 0 {
                    shape.push(vec![separator]);
                }
                shape.extend(std::iter::repeat_n(digits.clone(), *len));
            }
            let Some((classes, score)) = best_path(log_probs, &shape) else {
                continue;
            };
            let text: String = classes.into_iter().map(char_of).collect();
            let cost = free - score;
            let better = best.as_ref().is_none_or(|b| cost < b.cost);
            if better && cost <= MAX_DATE_COST && !find_dates(&text, order).is_empty() {
                best = Some(Forced { text, cost });
            }
        }
    }
    best
}

/// How much less likely (natural log) than the free reading a reading
/// without `?` may be and still be taken, as for dates.
const MAX_UNSURE_COST: f32 = 6.0;

/// How many characters one `?` of the first reading may stand for.
const MAX_FILL: usize = 2;

/// Reads a word again without `?`. The model's `?` is mostly a character it
/// could not decide on (`D.?.Y.`, `CAN?LE`), and its next choice is usually
/// the right one. The reading is taken only when it keeps everything else
/// of the first reading (`first`, from the whole line) and fills each `?`
/// with at most two characters, or none: the word cut out alone can read
/// differently elsewhere, and that is no evidence for any change.
pub fn read_unsure(log_probs: &[Vec<f32>], first: &str) -> Option<Forced> {
    let read = best_without(log_probs, '?')?;
    (read.cost <= MAX_UNSURE_COST
        && read.text.chars().any(char::is_alphanumeric)
        && fills_in(first, &read.text))
    .then_some(read)
}

/// The likeliest reading of the columns that never uses `banned`, and its
/// cost against the free reading.
fn best_without(log_probs: &[Vec<f32>], banned: char) -> Option<Forced> {
    let banned = class_of(banned)?;
    let mut text = String::new();
    let mut score = 0.0;
    let mut last = 0;
    for column in log_probs {
        // CTC's best single path is each column's likeliest class; repeats
        // without a blank between are one character.
        let (class, lp) = column
            .iter()
            .copied()
            .enumerate()
            .filter(|&(class, _)| class != banned)
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        score += lp;
        if class != 0 && class != last {
            text.push(char_of(class));
        }
        last = class;
    }
    Some(Forced {
        text: text.trim().to_string(),
        cost: free_score(log_probs) - score,
    })
}

/// Whether `read` is `first` with each `?` replaced by up to `MAX_FILL`
/// characters (none included) and nothing else changed.
fn fills_in(first: &str, read: &str) -> bool {
    let read: Vec<char> = read.chars().collect();
    // Positions in `read` that the prefix of `first` seen so far can end at.
    let mut ends = vec![false; read.len() + 1];
    ends[0] = true;
    for c in first.chars() {
        let mut next = vec![false; read.len() + 1];
        for (at, _) in ends.iter().enumerate().filter(|(_, e)| **e) {
            if c == '?' {
                for fill in 0..=MAX_FILL {
                    if let Some(slot) = next.get_mut(at + fill) {
                        *slot = true;
                    }
                }
            } else if read.get(at) == Some(&c) {
                next[at + 1] = true;
            }
        }
        ends = next;
    }
    ends[read.len()]
}

/// The score of the likeliest reading with no constraint: the best class of
/// every column.
fn free_score(log_probs: &[Vec<f32>]) -> f32 {
    log_probs
        .iter()
        .map(|column| column.iter().copied().fold(f32::NEG_INFINITY, f32::max))
        .sum()
}

#[derive(Clone, Copy)]
enum State {
    /// No character, before shape position `k` (k == len: after the last).
    Blank(usize),
    /// Character `class` at shape position `k`.
    Char(usize, usize),
}

/// The likeliest CTC alignment of the columns to one character from each set
/// of `shape`, in order: each character spans one or more columns, blanks
/// may come between, and the same character twice in a row needs a blank
/// between (else CTC would read it once). Returns the classes and the score.
fn best_path(log_probs: &[Vec<f32>], shape: &[Vec<usize>]) -> Option<(Vec<usize>, f32)> {
    let len = shape.len();
    if log_probs.len() < len || len == 0 {
        return None;
    }
    let mut states = Vec::new();
    for (k, set) in shape.iter().enumerate() {
        states.push(State::Blank(k));
        states.extend(set.iter().map(|&class| State::Char(k, class)));
    }
    states.push(State::Blank(len));
    let emits = |s: &State| match *s {
        State::Blank(_) => 0,
        State::Char(_, class) => class,
    };
    // Which states may come just before each state (itself included).
    let preds: Vec<Vec<usize>> = states
        .iter()
        .map(|to| {
            states
                .iter()
                .enumerate()
                .filter(|(_, from)| match (**from, *to) {
                    (State::Blank(a), State::Blank(b)) => a == b,
                    (State::Char(a, _), State::Blank(b)) => a + 1 == b,
                    (State::Blank(a), State::Char(b, _)) => a == b,
                    (State::Char(a, x), State::Char(b, y)) => {
                        (a == b && x == y) || (a + 1 == b && x != y)
                    }
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let starts = |s: &State| matches!(*s, State::Blank(0) | State::Char(0, _));
    let ends = |s: &State| match *s {
        State::Blank(k) => k == len,
        State::Char(k, _) => k + 1 == len,
    };
    let mut score: Vec<f32> = states
        .iter()
        .map(|s| {
            if starts(s) {
                log_probs[0][emits(s)]
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(log_probs.len());
    for column in &log_probs[1..] {
        let mut next = vec![f32::NEG_INFINITY; states.len()];
        let mut from = vec![0; states.len()];
        for (i, state) in states.iter().enumerate() {
            for &p in &preds[i] {
                if score[p] > next[i] {
                    next[i] = score[p];
                    from[i] = p;
                }
            }
            next[i] += column
                .get(emits(state))
                .copied()
                .unwrap_or(f32::NEG_INFINITY);
        }
        back.push(from);
        score = next;
    }
    let (mut at, best) = states
        .iter()
        .enumerate()
        .filter(|(_, s)| ends(s))
        .map(|(i, _)| (i, score[i]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if !best.is_finite() {
        return None;
    }
    let mut path = vec![at];
    for from in back.iter().rev() {
        at = from[at];
        path.push(at);
    }
    path.reverse();
    let mut classes = Vec::new();
    let mut last = None;
    for &i in &path {
        if let State::Char(k, class) = states[i]
            && last != Some(k)
        {
            classes.push(class);
            last = Some(k);
        }
    }
    Some((classes, best))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns where `text` is the clear first choice, each character one
    /// column with a blank after it; `second` makes a character the runner-up
    /// at a column (index into `text`).
    fn columns(text: &str, second: &[(usize, char, f32)]) -> Vec<Vec<f32>> {
        let classes = ALPHABET.chars().count() + 1;
        let mut out = Vec::new();
        for (i, c) in text.chars().enumerate() {
            let mut column = vec![-12.0; classes];
            column[class_of(c).expect("in the alphabet")] = -0.1;
            for &(at, alt, lp) in second {
                if at == i {
                    column[class_of(alt).expect("in the alphabet")] = lp;
                }
            }
            out.push(column);
            let mut blank = vec![-12.0; classes];
            blank[0] = -0.05;
            out.push(blank);
        }
        out
    }

    #[test]
    fn a_slash_read_as_one_comes_back_when_the_model_saw_it_too() {
        let lp = columns("12101/2018", &[(2, '/', -1.5)]);
        let date = read_date(&lp, DateOrder::DayFirst).expect("a date");
        assert_eq!(date.text, "12/01/2018");
        assert!(date.cost > 1.0 && date.cost < 2.0, "{date:?}");
    }

    #[test]
    fn a_letter_in_the_year_becomes_the_digit_the_model_ranked_next() {
        let lp = columns("04/12/201i", &[(9, '7', -2.0), (9, '1', -4.0)]);
        assert_eq!(
            read_date(&lp, DateOrder::DayFirst).expect("a date").text,
            "04/12/2017"
        );
    }

    #[test]
    fn a_word_the_model_read_clearly_as_no_date_stays_no_date() {
        // An invoice number: making it a date would need two separators the
        // model gave no weight.
        let lp = columns("2411862040", &[]);
        assert_eq!(read_date(&lp, DateOrder::DayFirst), None);
    }

    #[test]
    fn a_clean_date_reads_as_itself_at_no_cost() {
        let lp = columns("25-04-2017", &[]);
        let date = read_date(&lp, DateOrder::DayFirst).expect("a date");
        assert_eq!(date.text, "25-04-2017");
        assert!(date.cost.abs() < 1e-3);
    }

    #[test]
    fn repeated_characters_need_a_blank_between_them() {
        // Two columns of "1" with no blank between are one "1" in CTC, so
        // they cannot be read as "11"; with a blank column between they can.
        let classes = ALPHABET.chars().count() + 1;
        let one = class_of('1').expect("in the alphabet");
        let mut column = vec![-12.0; classes];
        column[one] = -0.1;
        let mut blank = vec![-12.0; classes];
        blank[0] = -0.1;
        let shape = vec![vec![one], vec![one]];
        assert_eq!(best_path(&[column.clone(), column.clone()], &shape), None);
        let (read, score) = best_path(&[column.clone(), blank, column], &shape).expect("a path");
        assert_eq!(read, [one, one]);
        assert!((score + 0.3).abs() < 1e-4);
    }

    #[test]
    fn a_question_mark_becomes_the_models_next_choice() {
        let lp = columns("D.?.Y.", &[(2, 'I', -1.0)]);
        let read = read_unsure(&lp, "D.?.Y.").expect("a reading");
        assert_eq!(read.text, "D.I.Y.");
        assert!((read.cost - 0.9).abs() < 1e-4, "{}", read.cost);
        // No likely runner-up: the `?` stays, as the model gave no letter.
        assert_eq!(read_unsure(&columns("D.?.Y.", &[]), "D.?.Y."), None);
    }

    #[test]
    fn a_second_reading_may_only_fill_in_the_question_marks() {
        assert!(fills_in("CAN?LE", "CANDLE"));
        assert!(fills_in("CONFECT?UNERY", "CONFECTIUNERY"));
        assert!(fills_in("?IZZA", "IZZA"));
        assert!(fills_in("PLANNIN??", "PLANNING"));
        assert!(!fills_in("8?06", "150"));
        assert!(!fills_in("2?110823030", "24116823030"));
        assert!(!fills_in("?O", "R"));
        assert!(!fills_in("A?B", "AXYZB"));
        // The word read alone, `?` gone but a digit changed elsewhere.
        let lp = columns("8506", &[(1, '?', -0.5)]);
        assert_eq!(read_unsure(&lp, "8?07"), None);
    }

    #[test]
    fn the_alphabet_has_the_models_96_labels() {
        assert_eq!(ALPHABET.chars().count(), 96);
        assert_eq!(class_of(' '), Some(1));
        assert_eq!(class_of('0'), Some(2));
        assert_eq!(char_of(class_of('/').expect("in the alphabet")), '/');
    }
}
