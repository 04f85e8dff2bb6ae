//! Visual rows: OCR lines that sit at the same height, left to right, so a
//! label and its amount printed far apart are read together.

use crate::ocr::page::{BoxRect, Page};

/// At most this many lines and characters per word are looked at, so hostile
/// input costs bounded time.
pub const MAX_LINES: usize = 2_000;
pub const MAX_WORD_CHARS: usize = 64;
const MAX_WORDS_PER_LINE: usize = 64;

/// One word with the index of the OCR line it belongs to.
#[derive(Debug, Clone)]
pub struct Token {
    pub text: String,
    pub rect: BoxRect,
    pub line: usize,
}

/// Words on one visual row, left to right.
#[derive(Debug, Clone)]
pub struct Row {
    pub tokens: Vec<Token>,
    pub rect: BoxRect,
    /// The OCR lines of the row, left to right.
    pub lines: Vec<usize>,
}

impl Row {
    pub fn text(&self) -> String {
        join(&self.tokens)
    }
}

pub fn join(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&token.text);
    }
    out
}

fn finite(rect: &BoxRect) -> bool {
    rect.left.is_finite()
        && rect.top.is_finite()
        && rect.right.is_finite()
        && rect.bottom.is_finite()
        && rect.right >= rect.left
        && rect.bottom >= rect.top
}

fn vertical_overlap(a: &BoxRect, b: &BoxRect) -> f32 {
    (a.bottom.min(b.bottom) - a.top.max(b.top)).max(0.0)
}

/// Groups the page's lines into rows, top to bottom.
pub fn rows(page: &Page) -> Vec<Row> {
    let mut order: Vec<usize> = (0..page.lines.len().min(MAX_LINES))
        .filter(|&i| {
            page.lines
                .get(i)
                .is_some_and(|l| finite(&l.rect) && !l.words.is_empty())
        })
        .collect();
    order.sort_by(|&a, &b| {
        let ya = page.lines[a].rect.center_y();
        let yb = page.lines[b].rect.center_y();
        ya.total_cmp(&yb)
    });
    let mut rows: Vec<Row> = Vec::new();
    for i in order {
        let line = &page.lines[i];
        let mut tokens: Vec<Token> = Vec::new();
        for word in line.words.iter().take(MAX_WORDS_PER_LINE) {
            let text: String = word.text.trim().chars().take(MAX_WORD_CHARS).collect();
            let rect = if finite(&word.rect) {
                word.rect
            } else {
                line.rect
            };
            for piece in split_label(&text) {
                tokens.push(Token {
                    text: piece.to_string(),
                    rect,
                    line: i,
                });
            }
        }
        if tokens.is_empty() {
            continue;
        }
        let joined = rows.last_mut().filter(|row| {
            let overlap = vertical_overlap(&row.rect, &line.rect);
            let smaller = row.rect.height().min(line.rect.height()).max(1.0);
            let cy = line.rect.center_y();
            overlap / smaller > 0.5 && cy > row.rect.top && cy < row.rect.bottom
        });
        match joined {
            Some(row) => {
                row.rect = row.rect.union(&line.rect);
                row.tokens.extend(tokens);
                row.lines.push(i);
            }
            None => rows.push(Row {
                tokens,
                rect: line.rect,
                lines: vec![i],
            }),
        }
    }
    for row in &mut rows {
        row.tokens
            .sort_by(|a, b| a.rect.left.total_cmp(&b.rect.left));
        let tokens = &row.tokens;
        row.lines.sort_by(|&a, &b| {
            let la = tokens.iter().find(|t| t.line == a).map(|t| t.rect.left);
            let lb = tokens.iter().find(|t| t.line == b).map(|t| t.rect.left);
            la.unwrap_or(0.0).total_cmp(&lb.unwrap_or(0.0))
        });
    }
    rows
}

/// Uppercase letters and digits of `text`, other characters as single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_uppercase());
        } else {
            space = true;
        }
    }
    out
}

/// Edit distance, bounded: returns `limit + 1` as soon as it is exceeded.
pub fn distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit || a.len() > 40 || b.len() > 40 {
        return limit + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut best = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            best = best.min(cur[j + 1]);
        }
        if best > limit {
            return limit + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Whether the uppercase word `word` is `keyword`, allowing OCR slips in
/// longer words.
pub fn word_is(word: &str, keyword: &str) -> bool {
    if word == keyword {
        return true;
    }
    let len = keyword.chars().count();
    let limit = match len {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    limit > 0 && distance(word, keyword, limit) <= limit
}

/// Whether the normalised `text` holds `phrase` (normalised words) as
/// consecutive words, with OCR slips allowed.
pub fn has_phrase(text: &str, phrase: &str) -> bool {
    let words: Vec<&str> = text.split(' ').collect();
    let wanted: Vec<&str> = phrase.split(' ').collect();
    if wanted.is_empty() || words.len() < wanted.len() {
        return false;
    }
    words
        .windows(wanted.len())
        .any(|w| w.iter().zip(&wanted).all(|(a, b)| word_is(a, b)))
}

/// Splits `TOTAL:RM37.10` into `TOTAL:` and `RM37.10` (a label glued to its
/// value by a colon); leaves times such as `12:31` whole.
fn split_label(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    if let Some(pos) = text.find(':') {
        let (left, right) = text.split_at(pos + 1);
        if right.chars().any(|c| c.is_ascii_digit())
            && left.chars().filter(|c| c.is_alphabetic()).count() >= 2
        {
            return vec![left, right];
        }
    }
    vec![text]
}

/// Each row cut into its OCR lines (left to right), one row per line.
pub fn by_line(rows: &[Row]) -> Vec<Row> {
    let mut out = Vec::new();
    for row in rows {
        for &line in &row.lines {
            let tokens: Vec<Token> = row
                .tokens
                .iter()
                .filter(|t| t.line == line)
                .cloned()
                .collect();
            let Some(first) = tokens.first() else {
                continue;
            };
            let rect = tokens.iter().fold(first.rect, |r, t| r.union(&t.rect));
            out.push(Row {
                tokens,
                rect,
                lines: vec![line],
            });
        }
    }
    out
}
