//! CSV (comma, or tab for Excel's "Unicode text"), already decoded to UTF-8.
//!
//! The header is read here; the body is cut into byte ranges that end on record
//! boundaries, so that every core can parse and validate its own ranges straight from
//! the file's text without a thread copying rows to the others.

use std::ops::Range;
use std::path::Path;

use super::FindHeader;
use crate::errors::IngestError;
use crate::headers::{Candidate, HeaderSearch};

/// Bytes per range of the body: about 12,000 rows of a typical ledger, enough that
/// handing a range over costs nothing, small enough that both cores stay busy.
const RANGE_BYTES: usize = 1 << 20;

/// A CSV file's header and the text after it.
pub(crate) struct CsvText<'a> {
    pub(crate) headers: Vec<String>,
    /// The header's row number as a spreadsheet shows the file (title, blank and
    /// 填报单位 rows above it counted).
    pub(crate) header_row: usize,
    text: &'a str,
    delimiter: u8,
    /// Where the first record after the header starts.
    body: usize,
    /// No quote in the body and every carriage return before a line feed: each line is
    /// a record and each delimiter ends a field, so lines are cut without csv-core.
    plain: bool,
}

impl<'a> CsvText<'a> {
    /// Reads the file's first rows, lets `find` pick the header among them, and starts
    /// the body after it.
    pub(crate) fn open(text: &'a str, path: &Path, find: FindHeader<'_>) -> Result<Self, IngestError> {
        let delimiter = sniff_delimiter(text);
        let (candidates, ends) = first_rows(text, path, delimiter, find.search)?;
        if candidates.is_empty() {
            return Err(IngestError::NoHeader { path: path.to_path_buf() });
        }
        let chosen = (find.choose)(&candidates)?;
        let Candidate { row: header_row, cells: headers } =
            candidates.into_iter().nth(chosen).ok_or_else(|| IngestError::NoHeader { path: path.to_path_buf() })?;
        let body = ends[chosen];
        let rest = &text.as_bytes()[body..];
        let lone_return = || memchr::memchr_iter(b'\r', rest).any(|i| rest.get(i + 1) != Some(&b'\n'));
        let plain = memchr::memchr(b'"', rest).is_none() && !lone_return();
        Ok(CsvText { headers, header_row, text, delimiter, body, plain })
    }

    /// The body cut into ranges of about [`RANGE_BYTES`] that each end after a record.
    /// In a plain body (see `plain`) every line end is a record end; otherwise a CSV
    /// state machine finds the record ends (a quoted field may hold line breaks).
    pub(crate) fn ranges(&self) -> Vec<Range<usize>> {
        let bytes = self.text.as_bytes();
        let mut ends =
            if self.plain { line_ends(bytes, self.body) } else { record_ends(bytes, self.body, self.delimiter) };
        if ends.last() != Some(&bytes.len()) {
            ends.push(bytes.len());
        }
        let mut ranges = Vec::with_capacity(ends.len());
        let mut start = self.body;
        for end in ends {
            if end > start {
                ranges.push(start..end);
                start = end;
            }
        }
        ranges
    }

    /// Calls `f` with the number and cells of every record in `range` (numbers counted
    /// from 1 within the range; blank records count but are not passed on), exactly
    /// `width` cells each. Returns how many records the range held.
    pub(crate) fn for_each_record(
        &self,
        range: Range<usize>,
        width: usize,
        f: impl FnMut(usize, &[&str]),
    ) -> Result<usize, (usize, String)> {
        if self.plain {
            return Ok(self.for_each_line(range, width, f));
        }
        self.for_each_csv_record(range, width, f)
    }

    /// [`Self::for_each_record`] for plain text: lines cut at line feeds, cells at
    /// delimiters — what csv-core's state machine does with such text (empty lines
    /// skipped, `\r\n` ending a line), with less work per cell.
    fn for_each_line(&self, range: Range<usize>, width: usize, mut f: impl FnMut(usize, &[&str])) -> usize {
        let text = &self.text[range];
        let bytes = text.as_bytes();
        let mut cells: Vec<&str> = Vec::with_capacity(width);
        let (mut records, mut field) = (0, 0);
        super::separators::for_each_either(bytes, self.delimiter, b'\n', |at| {
            // SAFETY: `field` is 0 or just after a delimiter or line feed, `at` (or `end`,
            // before a carriage return) at one: ASCII bytes, which never occur inside a
            // multi-byte UTF-8 character, so both are character boundaries of `text`.
            if bytes[at] == self.delimiter {
                if cells.len() < width {
                    cells.push(unsafe { text.get_unchecked(field..at) });
                }
            } else {
                let end = if at > field && bytes[at - 1] == b'\r' { at - 1 } else { at };
                end_line(&mut cells, unsafe { text.get_unchecked(field..end) }, width, &mut records, &mut f);
            }
            field = at + 1;
        });
        if field < bytes.len() || !cells.is_empty() {
            end_line(&mut cells, &text[field..], width, &mut records, &mut f);
        }
        records
    }

    fn for_each_csv_record(
        &self,
        range: Range<usize>,
        width: usize,
        mut f: impl FnMut(usize, &[&str]),
    ) -> Result<usize, (usize, String)> {
        let text = &self.text[range];
        let mut reader = builder(self.delimiter).from_reader(text.as_bytes());
        // Byte records: the text is known to be UTF-8 already (see `field`).
        let mut record = csv::ByteRecord::new();
        let mut spare: Vec<&str> = Vec::with_capacity(width);
        let mut records = 0;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(records),
                Err(e) => return Err((records + 1, e.to_string())),
            }
            records += 1;
            // Reuse one allocation for the cells although each row borrows a new record.
            spare.clear();
            let mut cells: Vec<&str> = spare.into_iter().map(|_| "").collect();
            cells.extend(record.iter().take(width).map(field));
            cells.resize(width, "");
            if !super::is_blank(&cells) {
                f(records, &cells);
            }
            cells.clear();
            spare = cells.into_iter().map(|_| "").collect();
        }
    }
}

/// Ends a plain line whose last cell is `last`: counts it and hands its cells on, unless
/// it is empty (no delimiter, nothing in it), which csv-core skips.
fn end_line<'t>(
    cells: &mut Vec<&'t str>,
    last: &'t str,
    width: usize,
    records: &mut usize,
    f: &mut impl FnMut(usize, &[&str]),
) {
    if !(cells.is_empty() && last.is_empty()) {
        *records += 1;
        if cells.len() < width {
            cells.push(last);
        }
        cells.resize(width, "");
        if !super::is_blank(cells) {
            f(*records, cells);
        }
    }
    cells.clear();
}

/// A field of a record read from text that is valid UTF-8.
fn field(bytes: &[u8]) -> &str {
    // SAFETY: the reader's input is a `&str`. A field is the input between ASCII
    // delimiters, line ends and quotes, with quotes removed and `""` made `"`: cut and
    // joined only at ASCII bytes, which never occur inside a multi-byte UTF-8 character,
    // so it is valid UTF-8 too. (Checking again per record cost ~4% of an ingest.)
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Tab for Excel's "Unicode text", else comma: decided by the first line that holds
/// either (a title line above the header may hold neither).
fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().take(crate::headers::SEARCH_ROWS).find(|l| l.contains(['\t', ',']));
    match line {
        Some(line) if line.contains('\t') && !line.contains(',') => b'\t',
        _ => b',',
    }
}

/// The non-blank rows `search` wants from the top of the file, each with its row number
/// as a spreadsheet shows it (blank lines, which csv-core skips, counted), and where each
/// ends in the text.
fn first_rows(
    text: &str,
    path: &Path,
    delimiter: u8,
    search: HeaderSearch,
) -> Result<(Vec<Candidate>, Vec<usize>), IngestError> {
    let malformed =
        |e: csv::Error| IngestError::Malformed { path: path.to_path_buf(), format: "CSV", message: e.to_string() };
    let mut reader = builder(delimiter).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let (mut candidates, mut ends) = (Vec::new(), Vec::new());
    let (mut row, mut end) = (0, 0);
    while reader.read_record(&mut record).map_err(malformed)? {
        row += 1 + empty_lines(&text.as_bytes()[end..]);
        end = usize::try_from(reader.position().byte()).unwrap_or(text.len()).min(text.len());
        // After `\r\n` the reader stops between the two: the line feed ends this line.
        if end > 0 && text.as_bytes()[end - 1] == b'\r' && text.as_bytes().get(end) == Some(&b'\n') {
            end += 1;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if !search.wants(row, candidates.len()) {
            break;
        }
        candidates.push(Candidate { row, cells: record.iter().map(str::to_string).collect() });
        ends.push(end);
    }
    Ok((candidates, ends))
}

/// How many empty lines (no character but the line end) `bytes` starts with.
fn empty_lines(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut lines = 0;
    loop {
        rest = match rest {
            [b'\r', b'\n', tail @ ..] | [b'\n', tail @ ..] | [b'\r', tail @ ..] => tail,
            _ => return lines,
        };
        lines += 1;
    }
}

fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder.delimiter(delimiter).has_headers(false).flexible(true);
    builder
}

/// Ends (one past the `\n`) of the first line ending at least [`RANGE_BYTES`] after the
/// previous end.
fn line_ends(bytes: &[u8], start: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = start + RANGE_BYTES;
    while from < bytes.len() {
        let Some(newline) = memchr::memchr(b'\n', &bytes[from..]) else { break };
        let end = from + newline + 1;
        ends.push(end);
        from = end + RANGE_BYTES;
    }
    ends
}

/// Record ends found by csv-core's state machine, at least [`RANGE_BYTES`] apart.
fn record_ends(bytes: &[u8], start: usize, delimiter: u8) -> Vec<usize> {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    // The fields' contents are not wanted: the buffers are overwritten as they fill.
    let mut output = vec![0u8; 64 * 1024];
    let mut field_ends = vec![0usize; 1024];
    let (mut position, mut last) = (start, start);
    let mut ends = Vec::new();
    loop {
        let (result, read, _, _) = reader.read_record(&bytes[position..], &mut output, &mut field_ends);
        position += read;
        match result {
            csv_core::ReadRecordResult::Record if position - last >= RANGE_BYTES => {
                ends.push(position);
                last = position;
            }
            csv_core::ReadRecordResult::End => return ends,
            csv_core::ReadRecordResult::InputEmpty if position >= bytes.len() => {
                // One more call with no input tells csv-core the file ended.
                let (result, _, _, _) = reader.read_record(&[], &mut output, &mut field_ends);
                if result == csv_core::ReadRecordResult::End {
                    return ends;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first non-blank row as the header, as before header detection.
    const FIRST_ROW: FindHeader<'static> = FindHeader { search: HeaderSearch { given: None }, choose: &|_| Ok(0) };

    #[test]
    fn rows_above_the_header_count_as_a_spreadsheet_shows_them() {
        let pick_named = |wanted: &'static str| {
            move |text: &str| {
                let choose = move |rows: &[Candidate]| Ok(rows.iter().position(|r| r.cells[0] == wanted).expect("row"));
                let find = FindHeader { search: HeaderSearch { given: None }, choose: &choose };
                let file = CsvText::open(text, Path::new("t.csv"), find).expect("header");
                (file.header_row, file.headers.clone(), file.body)
            }
        };
        let header = pick_named("社区代码");
        for end in ["\n", "\r\n"] {
            // Title, 填报单位 line, an empty line and a line of commas, then the header.
            let text =
                ["台账（2025年）", "填报单位：霞寨社区,,日期：2025-03-31", "", ",,", "社区代码,名称,日期", "1,a,b", ""]
                    .join(end);
            let (row, headers, body) = header(&text);
            assert_eq!(row, 5, "{end:?}");
            assert_eq!(headers, ["社区代码", "名称", "日期"]);
            assert_eq!(&text[body..], format!("1,a,b{end}"));
        }
        // A quoted header cell with a line break is one row.
        let (row, _, _) = pick_named("社区代码")("标题\n\"说明\n第二行\",x\n社区代码,名称\n1,2\n");
        assert_eq!(row, 3);
    }

    fn records(csv: &str) -> Vec<(usize, Vec<String>)> {
        let file = CsvText::open(csv, Path::new("t.csv"), FIRST_ROW).expect("header");
        let mut rows = Vec::new();
        let mut offset = 1;
        for range in file.ranges() {
            let n = file
                .for_each_record(range, 2, |i, cells| {
                    rows.push((offset + i, cells.iter().map(|c| c.to_string()).collect()));
                })
                .expect("parse");
            offset += n;
        }
        rows
    }

    #[test]
    fn ranges_end_on_records_with_and_without_quotes() {
        let mut plain = String::from("a,b\n");
        let mut quoted = String::from("a,b\r\n");
        for i in 0..200_000 {
            plain.push_str(&format!("{i},x\n"));
            quoted.push_str(&format!("{i},\"line\nbreak, \"\"{i}\"\"\"\r\n"));
        }
        for text in [&plain, &quoted] {
            let file = CsvText::open(text, Path::new("t.csv"), FIRST_ROW).expect("header");
            assert!(file.ranges().len() > 1, "the body is cut into several ranges");
            let rows = records(text);
            assert_eq!(rows.len(), 200_000);
            for (n, (row, cells)) in rows.iter().enumerate() {
                assert_eq!(*row, n + 2);
                assert_eq!(cells[0], n.to_string());
            }
        }
        assert_eq!(records(&quoted)[7].1[1], "line\nbreak, \"7\"");
    }

    /// Records as (row number, cells).
    type Numbered = Vec<(usize, Vec<String>)>;

    /// Every record (number and cells) of `text`'s body, by the line cutter or csv-core.
    fn both_ways(text: &str, width: usize) -> (bool, Numbered, Numbered) {
        let file = CsvText::open(text, Path::new("t.csv"), FIRST_ROW).expect("header");
        let range = file.body..text.len();
        let (mut lines, mut records) = (Vec::new(), Vec::new());
        let n =
            file.for_each_line(range.clone(), width, |i, c| lines.push((i, c.iter().map(|c| c.to_string()).collect())));
        let m = file
            .for_each_csv_record(range, width, |i, c| records.push((i, c.iter().map(|c| c.to_string()).collect())))
            .expect("parse");
        assert_eq!(n, m, "{text:?}: record count");
        (file.plain, lines, records)
    }

    #[test]
    fn plain_lines_are_cut_as_csv_core_reads_them() {
        for text in [
            "a,b\n1,x\n2,y\n",
            "a,b\r\n1,x\r\n2,y\r\n",
            "a,b\n1,x\n\n\n2,y",
            "a,b\r\n\r\n1,x\r\n,\r\n2\r\n3,y,z,w\r\n",
            "a\tb\n社区,评价\n\t\n 满意 \t基本满意\n",
            "a,b\n1,x,\n,,\n",
            "a,b\n",
            "a,b",
        ] {
            for width in [1, 2, 3] {
                let (plain, lines, records) = both_ways(text, width);
                assert!(plain, "{text:?} is plain");
                assert_eq!(lines, records, "{text:?}, width {width}");
            }
        }
        // Random plain texts from the pieces a ledger line is made of.
        let pieces = ["a", "满意", " ", ",", "\n", "\r\n", ",,", "\n\n"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2_000 {
            let mut text = String::from("h1,h2,h3\n");
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let (plain, lines, records) = both_ways(&text, 3);
            assert!(plain, "{text:?} is plain");
            assert_eq!(lines, records, "{text:?}");
        }
        // Quotes or a carriage return on its own: csv-core reads these files.
        for text in ["a,b\n1,\"x\"\n", "a,b\n1,x\r2,y\n"] {
            assert!(!CsvText::open(text, Path::new("t.csv"), FIRST_ROW).expect("header").plain, "{text:?}");
        }
    }

    #[test]
    fn blank_records_count_and_short_rows_are_padded() {
        let rows = records("a,b\n1,x\n,\n2\n");
        assert_eq!(rows, vec![(2, vec!["1".into(), "x".into()]), (4, vec!["2".into(), String::new()])]);
    }
}
