//! Expands the repeats of an OpenDocument spreadsheet's `content.xml` on paper, before calamine
//! does it in memory: one `<table:table-row table:number-rows-repeated="1000000">` with a value
//! is a million rows. Counts like calamine does: empty cells at a row's end and empty rows at the
//! start or end of a table cost nothing.

use super::MappingError;
use super::sheet::ImportLimits;

/// One table's shape so far.
#[derive(Default)]
struct Table {
    /// Rows from the first row with a value to the last one, repeats expanded.
    rows: u64,
    /// Empty rows seen since the last row with a value (they count once a value follows).
    pending_empty: u64,
    widest: u64,
}

/// The row being read.
#[derive(Default)]
struct Row {
    repeats: u64,
    /// Cells up to here, repeats expanded.
    position: u64,
    /// Cells up to the last one with a value.
    width: u64,
}

/// Refuses the content if any table would expand to too many rows or cells.
pub fn check(xml: &str, limits: &ImportLimits) -> Result<(), MappingError> {
    let mut table = Table::default();
    let mut row: Option<Row> = None;
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let (tag, after) = next_tag(rest)?;
        rest = after;
        match tag {
            Tag::Start { name, attrs, empty } => match name {
                "table:table" => table = Table::default(),
                "table:table-row" => {
                    let repeats = repeat(attrs, "table:number-rows-repeated")?;
                    row = Some(Row {
                        repeats,
                        ..Row::default()
                    });
                    if empty {
                        end_row(&mut table, row.take(), limits)?;
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let repeats = repeat(attrs, "table:number-columns-repeated")?;
                    if let Some(row) = row.as_mut() {
                        row.position = row.position.saturating_add(repeats);
                        if !empty || attrs.contains("office:value-type") {
                            row.width = row.position;
                        }
                    }
                }
                _ => {}
            },
            Tag::End("table:table-row") => end_row(&mut table, row.take(), limits)?,
            Tag::End(_) | Tag::Other => {}
        }
    }
    Ok(())
}

fn end_row(table: &mut Table, row: Option<Row>, limits: &ImportLimits) -> Result<(), MappingError> {
    let Some(row) = row else { return Ok(()) };
    if row.width == 0 {
        if table.rows > 0 {
            table.pending_empty = table.pending_empty.saturating_add(row.repeats);
        }
        return Ok(());
    }
    table.rows = table
        .rows
        .saturating_add(table.pending_empty)
        .saturating_add(row.repeats);
    table.pending_empty = 0;
    table.widest = table.widest.max(row.width);
    if table.rows > limits.max_rows as u64 + 1 {
        return Err(limits.too_many_rows());
    }
    if table.rows.saturating_mul(table.widest) > limits.max_cells() {
        return Err(MappingError::TooLarge(format!(
            "a sheet of this spreadsheet spans more than {} cells",
            limits.max_cells()
        )));
    }
    Ok(())
}

/// A repeat count; anything but plain digits (entities, signs) is refused rather than guessed.
fn repeat(attrs: &str, name: &str) -> Result<u64, MappingError> {
    let Some(value) = attribute(attrs, name) else {
        return Ok(1);
    };
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MappingError::BadFile(format!(
            "the spreadsheet has an unreadable {name}={value:?}"
        )));
    }
    Ok(value.parse::<u64>().unwrap_or(u64::MAX).max(1))
}

/// The value of `name="…"` (or `'…'`) in a tag's attribute text.
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
        let after = rest[at + name.len()..].trim_start();
        if before_ok && let Some(after) = after.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next()?;
            if quote == '"' || quote == '\'' {
                let value = &after[1..];
                return value.find(quote).map(|end| &value[..end]);
            }
        }
        rest = &rest[at + name.len()..];
    }
    None
}

enum Tag<'a> {
    Start {
        name: &'a str,
        attrs: &'a str,
        /// `<x/>`: no children.
        empty: bool,
    },
    End(&'a str),
    /// Comment, CDATA, processing instruction, doctype.
    Other,
}

/// The tag at the start of `text` (which begins with `<`) and the text after it.
fn next_tag(text: &str) -> Result<(Tag<'_>, &str), MappingError> {
    let unclosed =
        || MappingError::BadFile("the spreadsheet content is not well-formed XML".into());
    for (open, close) in [
        ("<!--", "-->"),
        ("<![CDATA[", "]]>"),
        ("<?", "?>"),
        ("<!", ">"),
    ] {
        if let Some(body) = text.strip_prefix(open) {
            let end = body.find(close).ok_or_else(unclosed)?;
            return Ok((Tag::Other, &body[end + close.len()..]));
        }
    }
    if let Some(body) = text.strip_prefix("</") {
        let end = body.find('>').ok_or_else(unclosed)?;
        return Ok((Tag::End(body[..end].trim()), &body[end + 1..]));
    }
    let body = &text[1..];
    // The tag ends at the first `>` outside a quoted attribute value.
    let mut quote = None;
    let end = body
        .char_indices()
        .find(|&(_, c)| match quote {
            Some(q) if c == q => {
                quote = None;
                false
            }
            Some(_) => false,
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                false
            }
            None => c == '>',
        })
        .map(|(i, _)| i)
        .ok_or_else(unclosed)?;
    let inside = &body[..end];
    let empty = inside.ends_with('/');
    let inside = inside.trim_end_matches('/');
    let name_end = inside
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(inside.len());
    let tag = Tag::Start {
        name: &inside[..name_end],
        attrs: &inside[name_end..],
        empty,
    };
    Ok((tag, &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rows: usize) -> ImportLimits {
        ImportLimits {
            max_rows: rows,
            ..ImportLimits::default()
        }
    }

    const VALUE_CELL: &str =
        r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;

    fn table(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><office:body><table:table table:name="S">{rows}</table:table></office:body>"#
        )
    }

    #[test]
    fn trailing_empty_rows_and_cells_cost_nothing() {
        let xml = table(&format!(
            r#"<table:table-row>{VALUE_CELL}<table:table-cell table:number-columns-repeated="16000"/></table:table-row>
               <table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
        ));
        check(&xml, &limits(10)).unwrap();
    }

    #[test]
    fn a_repeated_row_with_a_value_counts_every_repeat() {
        let xml = table(&format!(
            r#"<table:table-row table:number-rows-repeated="1000000">{VALUE_CELL}</table:table-row>"#
        ));
        let err = check(&xml, &limits(100_000)).unwrap_err();
        assert!(matches!(err, MappingError::TooLarge(_)), "{err}");
    }

    #[test]
    fn a_value_far_to_the_right_counts_the_whole_width() {
        let row = format!(
            r#"<table:table-row><table:table-cell table:number-columns-repeated="16000"/>{VALUE_CELL}</table:table-row>"#
        );
        let xml = table(&row.repeat(200));
        assert!(check(&xml, &limits(1000)).is_err());
        check(&table(&row), &limits(1000)).unwrap();
    }

    #[test]
    fn tags_hidden_in_comments_or_quotes_do_not_fool_it() {
        let xml = table(&format!(
            r#"<!-- <table:table-row> --><table:table-row table:style-name="a>b" table:number-rows-repeated="500">{VALUE_CELL}</table:table-row>"#
        ));
        assert!(check(&xml, &limits(100)).is_err());
        assert!(
            check(
                &table(r#"<table:table-row table:number-rows-repeated="&#49;"/>"#),
                &limits(10)
            )
            .is_err()
        );
    }
}
