//! Tables written as CSV for spreadsheets. A text cell that a spreadsheet
//! would run as a formula (it begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is written with a leading `'`, which spreadsheets show
//! as text; numbers are written as numbers. Pure: bytes out.

/// One cell of an exported table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    Text(&'a str),
    Number(i64),
    Empty,
}

/// Whether a spreadsheet would take `text` for a formula.
fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The table as CSV (comma, `"` quoting where needed, CRLF line ends, as
/// RFC 4180 says), header first.
pub fn csv<'a>(header: &[&str], rows: impl IntoIterator<Item = Vec<Field<'a>>>) -> Vec<u8> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every record has the header's width.
    let _ = writer.write_record(header);
    for row in rows {
        let cells: Vec<String> = row
            .into_iter()
            .map(|f| match f {
                Field::Text(t) if looks_like_formula(t) => format!("'{t}"),
                Field::Text(t) => t.to_string(),
                Field::Number(n) => n.to_string(),
                Field::Empty => String::new(),
            })
            .collect();
        let _ = writer.write_record(&cells);
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_escaped_and_numbers_kept() {
        let rows = vec![
            vec![Field::Text("=HYPERLINK(\"http://x\")"), Field::Number(-500)],
            vec![Field::Text("+1"), Field::Empty],
            vec![Field::Text("-2"), Field::Number(3)],
            vec![Field::Text("@SUM(A1)"), Field::Number(0)],
            vec![Field::Text("\tx"), Field::Number(0)],
            vec![Field::Text("\rx"), Field::Number(0)],
            vec![Field::Text("Caf\u{e9}, \"Le Bon\""), Field::Number(1)],
        ];
        let text = String::from_utf8(csv(&["payee", "amount"], rows)).expect("present");
        assert_eq!(
            text,
            "payee,amount\r\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",-500\r\n\
             '+1,\r\n\
             '-2,3\r\n\
             '@SUM(A1),0\r\n\
             '\tx,0\r\n\
             \"'\rx\",0\r\n\
             \"Caf\u{e9}, \"\"Le Bon\"\"\",1\r\n"
        );
    }
}
