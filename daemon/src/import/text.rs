//! A file's bytes as text: UTF-8 (a byte-order mark is dropped),
//! Windows-1252 or ISO-8859-1, or detected: UTF-8 when the bytes are valid
//! UTF-8, else Windows-1252 (what European bank exports that are not UTF-8
//! almost always are). A file said to be UTF-8 that is not is refused with
//! the line and column of the first bad byte.

use super::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
    Latin1,
    /// UTF-8 if it is valid UTF-8, else Windows-1252.
    Detect,
}

impl Encoding {
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" => Some(Encoding::Windows1252),
            "iso-8859-1" | "latin1" | "latin-1" => Some(Encoding::Latin1),
            "detect" | "auto" => Some(Encoding::Detect),
            _ => None,
        }
    }
}

/// The text of `bytes` in `encoding`.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|e| not_utf8(bytes, e.valid_up_to())),
        Encoding::Detect => Ok(match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(_) => windows_1252(bytes),
        }),
        Encoding::Windows1252 => Ok(windows_1252(bytes)),
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

fn windows_1252(bytes: &[u8]) -> String {
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    text.into_owned()
}

/// Where the first byte that is not UTF-8 sits.
fn not_utf8(bytes: &[u8], at: usize) -> Problem {
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Problem::at(
        line,
        Some(column),
        "the file is not UTF-8 here; choose its encoding (windows-1252 or iso-8859-1), or detect",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_decoded_or_refused_with_a_place() {
        let latin = b"date;payee\n2026-01-02;Caf\xe9 M\xfcller\n";
        assert_eq!(
            decode(latin, Encoding::Detect).expect("detected"),
            "date;payee\n2026-01-02;Café Müller\n"
        );
        let problem = decode(latin, Encoding::Utf8).expect_err("not utf-8");
        assert_eq!((problem.line, problem.column), (2, Some(15)));
        assert_eq!(
            decode(b"\xEF\xBB\xBFok", Encoding::Utf8).expect("bom"),
            "ok"
        );
        assert_eq!(decode(b"\x80", Encoding::Windows1252).expect("euro"), "€");
        assert_eq!(decode(b"\x80", Encoding::Latin1).expect("c1"), "\u{80}");
    }
}
