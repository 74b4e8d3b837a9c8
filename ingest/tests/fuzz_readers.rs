//! Property tests of the ledger readers, a bounded fuzzing: arbitrary bytes and
//! structured-arbitrary files (CSV in UTF-8 and GB18030 with quotes, BOMs and separators;
//! XLSX workbooks, truncated and corrupted zips, crafted sheet XML; JSON lines) go through
//! the entry point the warehouse uses, [`ingest::open_ledger`] then `validate`. Whatever
//! the input, reading ends with `Ok` or with an error whose message is non-empty and
//! carries its `(token)` (the server turns the token into the error code); nothing panics
//! and nothing allocates by a size the file merely declares (a workbook's cells are kept
//! sparsely, so an abort would end this test binary).
//!
//! Every property runs a fixed number of cases ([`CASES`]) with no failure files written:
//! the suite takes seconds. For a longer hunt set `PROPTEST_CASES` (say 20000). A failure
//! found here is fixed at its cause and kept as a regression test at the end of this file.

use std::io::{Cursor, Write};
use std::path::Path;

use ingest::schema::ColumnType;
use ingest::{IngestError, LedgerFile, ReadOptions, References, Scope, Table};
use proptest::prelude::*;

const CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

const COMMUNITY: &str = "141021100001";

/// Opens and validates `bytes` as the warehouse does (platform scope; a cadre C01, a
/// session S1 and a topic T1 of 2025-03-10 to refer to).
fn read(table: Table, name: &str, bytes: &[u8]) -> Result<LedgerFile, IngestError> {
    let scope = Scope::Platform;
    let mut references = References::default();
    references.add_cadre(COMMUNITY, "C01");
    references.add_session(COMMUNITY, "S1");
    let raised = chrono::NaiveDate::from_ymd_opt(2025, 3, 10).map(ingest::values::date32).unwrap_or_default();
    references.add_topic(COMMUNITY, "T1", raised);
    let options = ReadOptions {
        scope: &scope,
        references: &references,
        respondent_secret: b"fuzz",
        sheet: None,
        header_row: None,
        max_file_bytes: ingest::DEFAULT_MAX_FILE_BYTES,
        progress: None,
        sink: None,
        strict: false,
    };
    let mut text = None;
    let opened = ingest::open_ledger(
        table,
        Path::new(name),
        bytes,
        &scope,
        ingest::Layout::default(),
        options.max_file_bytes,
        &mut text,
    )?;
    opened.validate(ingest::sha256_hex(bytes), &options)
}

/// The properties every read must have.
fn check(table: Table, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    match read(table, name, bytes) {
        Ok(file) => {
            for rejected in &file.rejected {
                prop_assert!(!rejected.errors.is_empty(), "row {} rejected without an error", rejected.row);
                for error in &rejected.errors {
                    prop_assert!(!error.message.trim().is_empty(), "empty message: {error:?}");
                    prop_assert!(error.row >= 1);
                }
            }
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.trim().is_empty(), "empty message: {error:?}");
            prop_assert!(has_token(&message), "no (token) in: {message}");
        }
    }
    Ok(())
}

/// Whether a message carries a `(snake_case)` token.
fn has_token(message: &str) -> bool {
    message.split('(').skip(1).any(|part| {
        part.split_once(')')
            .is_some_and(|(inner, _)| !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    })
}

fn table() -> impl Strategy<Value = Table> {
    prop::sample::select(Table::ALL.to_vec())
}

/// Values that cells hold: valid ones of every type, the enumerations' values, and the
/// awkward ones (quotes, separators, line breaks, BOMs, formulas, long text).
fn value() -> impl Strategy<Value = String> {
    let mut pool: Vec<String> = [
        "141021100001",
        "141021100002",
        "141021",
        "1410211",
        "2025-03-10",
        "2025/3/10",
        "2025年3月10日",
        "20250310",
        "45000",
        "45000.5",
        "0",
        "-1",
        "3.5",
        "1e308",
        "是",
        "否",
        "true",
        "T1",
        "S1",
        "C01",
        "霞寨社区",
        "曲沃县",
        "",
        " ",
        "\"",
        "a\"b",
        "x,y",
        "a;b",
        "tab\there",
        "line\nbreak",
        "\r\n",
        "\u{feff}",
        "=1+1",
        "NULL",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for table in Table::ALL {
        for column in table.columns() {
            if let ColumnType::Enum(enumeration) = column.ty {
                for (zh, en) in enumeration.values {
                    pool.push(zh.to_string());
                    pool.push(en.to_string());
                }
            }
        }
    }
    pool.push("长".repeat(4_001));
    // A NUL makes a text file binary: rarely, or little else would be read.
    prop_oneof![40 => prop::sample::select(pool), 10 => "\\PC{0,12}", 10 => ".{0,6}", 1 => Just("\u{0}".to_string())]
}

/// A value the column accepts (mostly: dates may come in the wrong order, ids repeat).
fn valid(ty: ColumnType) -> BoxedStrategy<String> {
    let pick = |values: &[&str]| prop::sample::select(values.iter().map(|v| v.to_string()).collect::<Vec<_>>()).boxed();
    match ty {
        ColumnType::Code(12) => Just(COMMUNITY.to_string()).boxed(),
        ColumnType::Code(6) => Just(COMMUNITY[..6].to_string()).boxed(),
        ColumnType::Code(n) => Just("1".repeat(n)).boxed(),
        ColumnType::Id => pick(&["T1", "S1", "C01", "E7", "T2"]),
        ColumnType::Text => pick(&["霞寨社区", "曲沃县", "楼道灯不亮", ""]),
        ColumnType::Int => pick(&["0", "12", "350", ""]),
        ColumnType::Score => pick(&["1", "3", "5"]),
        ColumnType::Date => pick(&["2025-03-10", "2025-04-01", "2025/4/2", "45760", ""]),
        ColumnType::Bool => pick(&["是", "否", ""]),
        ColumnType::Enum(enumeration) => {
            let values: Vec<String> =
                enumeration.values.iter().flat_map(|(zh, en)| [zh.to_string(), en.to_string()]).collect();
            prop::sample::select(values).boxed()
        }
        ColumnType::List => pick(&["住建局;民政局", "住建局、民政局", ""]),
        ColumnType::Respondent => pick(&["张三", "13800000000"]),
    }
}

/// A cell under `header`: mostly a value its column accepts, sometimes anything.
fn cell(table: Table, header: &str) -> BoxedStrategy<String> {
    match table.columns().iter().find(|c| c.matches_header(header)) {
        Some(column) => prop_oneof![4 => valid(column.ty), 1 => value()].boxed(),
        None => value().boxed(),
    }
}

/// Rows under `headers`: mostly one cell per header, sometimes ragged.
fn rows(table: Table, headers: &[String]) -> impl Strategy<Value = Vec<Vec<String>>> + use<> {
    let cells: Vec<BoxedStrategy<String>> = headers.iter().map(|h| cell(table, h)).collect();
    let width = headers.len();
    let row = prop_oneof![6 => cells, 1 => prop::collection::vec(value(), 0..width + 3)];
    prop::collection::vec(row, 0..8)
}

/// A header for one of the table's columns (canonical, Chinese alias, odd case, padded),
/// or an unknown one.
fn header(table: Table) -> impl Strategy<Value = String> {
    let mut names: Vec<String> = Vec::new();
    for column in table.columns() {
        names.push(column.name.to_string());
        names.push(column.name.to_ascii_uppercase());
        names.push(format!(" {} ", column.name));
        names.extend(column.aliases.iter().map(|a| a.to_string()));
    }
    prop_oneof![8 => prop::sample::select(names), 1 => Just(String::new()), 1 => "[a-z\u{4e00}-\u{4e0f}]{1,4}"]
}

/// A table and a header row: mostly every column in the contract's order (so rows get
/// validated), sometimes shuffled, with columns left out, repeated or unknown.
fn headers() -> impl Strategy<Value = (Table, Vec<String>)> {
    table().prop_flat_map(|table| {
        let all: Vec<String> = table.columns().iter().map(|c| c.name.to_string()).collect();
        let n = all.len();
        prop_oneof![
            3 => Just(all.clone()),
            2 => Just(all).prop_shuffle(),
            2 => prop::collection::vec(header(table), 0..n + 3),
        ]
        .prop_map(move |headers| (table, headers))
    })
}

#[derive(Debug, Clone)]
struct CsvShape {
    separator: char,
    crlf: bool,
    bom: bool,
    gb18030: bool,
    /// Quote every field, only those that need it, or none (breaking fields with quotes).
    quoting: u8,
    /// Cut the encoded bytes to this fraction of their length (100 = whole).
    keep_percent: u8,
}

fn csv_shape() -> impl Strategy<Value = CsvShape> {
    (
        prop::sample::select(vec![',', ';', '\t', '|', '，']),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        prop_oneof![4 => Just(100u8), 1 => 0u8..100],
    )
        .prop_map(|(separator, crlf, bom, gb18030, quoting, keep_percent)| CsvShape {
            separator,
            crlf,
            bom,
            gb18030,
            quoting,
            keep_percent,
        })
}

fn csv_bytes(headers: &[String], rows: &[Vec<String>], shape: &CsvShape) -> Vec<u8> {
    let field = |value: &str| -> String {
        let needs = value.contains([shape.separator, '"', '\n', '\r']);
        match shape.quoting {
            0 => format!("\"{}\"", value.replace('"', "\"\"")),
            1 if needs => format!("\"{}\"", value.replace('"', "\"\"")),
            _ => value.to_string(),
        }
    };
    let end = if shape.crlf { "\r\n" } else { "\n" };
    let mut text = String::new();
    if shape.bom {
        text.push('\u{feff}');
    }
    for line in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        let fields: Vec<String> = line.iter().map(|v| field(v)).collect();
        text.push_str(&fields.join(&shape.separator.to_string()));
        text.push_str(end);
    }
    let mut bytes = if shape.gb18030 {
        let (encoded, _, _) = encoding_rs::GB18030.encode(&text);
        encoded.into_owned()
    } else {
        text.into_bytes()
    };
    bytes.truncate(bytes.len() * usize::from(shape.keep_percent) / 100);
    bytes
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    prop_oneof![
        6 => value().prop_map(J::String),
        1 => any::<i64>().prop_map(J::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(J::Number).unwrap_or(J::Null)),
        1 => any::<bool>().prop_map(J::Bool),
        1 => Just(J::Null),
        1 => prop::collection::vec(value().prop_map(J::String), 0..3).prop_map(J::Array),
        1 => Just(serde_json::json!({"nested": [1, {"deeper": null}]})),
    ]
}

/// JSON lines: a row per line keyed by the table's headers, with odd values, blank,
/// broken and non-object lines now and then.
fn json_lines() -> impl Strategy<Value = (Table, Vec<u8>)> {
    use serde_json::Value as J;
    headers().prop_flat_map(|(table, headers)| {
        let keys = prop::sample::select(if headers.is_empty() { vec!["k".to_string()] } else { headers.clone() });
        let odd = prop::collection::vec((keys, json_value()), 0..10)
            .prop_map(|pairs| J::Object(pairs.into_iter().collect()).to_string());
        let headers_again = headers.clone();
        let row = rows(table, &headers).prop_map(move |rows| {
            rows.into_iter()
                .map(|cells| {
                    let object = headers_again.iter().cloned().zip(cells.into_iter().map(J::String)).collect();
                    J::Object(object).to_string()
                })
                .collect::<Vec<String>>()
        });
        let line = prop_oneof![
            20 => odd,
            1 => Just(String::new()),
            1 => Just("[1, 2]".to_string()),
            1 => Just("{\"community_code\": ".to_string()),
            1 => "\\PC{0,10}",
        ];
        (row, prop::collection::vec(line, 0..3), any::<bool>()).prop_map(move |(mut lines, odd, crlf)| {
            lines.extend(odd);
            (table, lines.join(if crlf { "\r\n" } else { "\n" }).into_bytes())
        })
    })
}

/// A cell of a test workbook.
#[derive(Debug, Clone)]
enum XlsxValue {
    Text(String),
    Number(f64),
    Date(f64),
    Bool(bool),
}

fn xlsx_value() -> impl Strategy<Value = XlsxValue> {
    xlsx_cell(value().boxed())
}

/// A workbook cell: `text` as a string, or a number, date or boolean.
fn xlsx_cell(text: BoxedStrategy<String>) -> impl Strategy<Value = XlsxValue> {
    prop_oneof![
        6 => text.prop_map(XlsxValue::Text),
        2 => prop_oneof![Just(141021100001.0), Just(45000.0), Just(3.0), prop::num::f64::NORMAL]
            .prop_map(XlsxValue::Number),
        2 => (0.0f64..3_000_000.0).prop_map(XlsxValue::Date),
        1 => any::<bool>().prop_map(XlsxValue::Bool),
    ]
}

/// A workbook written by rust_xlsxwriter: the header row at a small offset, rows below
/// (some left blank), and now and then one cell far to the right or below.
fn xlsx_workbook() -> impl Strategy<Value = (Table, Vec<u8>)> {
    headers().prop_flat_map(|(table, headers)| {
        let cells: Vec<_> = headers.iter().map(|h| prop::option::weighted(0.8, xlsx_cell(cell(table, h)))).collect();
        (
            Just(table),
            Just(headers),
            0u32..4,
            0u16..4,
            prop::collection::vec(cells, 0..6),
            // Rows far down are left to `crafted_sheet_xml`: rust_xlsxwriter writes every
            // row between the first and the last, which takes it half a second.
            prop::option::weighted(0.2, (0u32..2_000, 0u16..16_384, xlsx_value())),
        )
            .prop_map(|(table, headers, top, left, rows, far)| {
                let mut book = rust_xlsxwriter::Workbook::new();
                let sheet = book.add_worksheet();
                let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                let mut write = |row: u32, column: u16, value: &XlsxValue| {
                    // A value Excel cannot hold (text over 32,767 characters) is left out.
                    let _ = match value {
                        XlsxValue::Text(s) => sheet.write_string(row, column, s).map(|_| ()),
                        XlsxValue::Number(n) => sheet.write_number(row, column, *n).map(|_| ()),
                        XlsxValue::Date(d) => sheet.write_number_with_format(row, column, *d, &date).map(|_| ()),
                        XlsxValue::Bool(b) => sheet.write_boolean(row, column, *b).map(|_| ()),
                    };
                };
                for (i, name) in headers.iter().enumerate() {
                    write(top, left + i as u16, &XlsxValue::Text(name.clone()));
                }
                for (r, row) in rows.iter().enumerate() {
                    for (i, cell) in row.iter().enumerate() {
                        if let Some(value) = cell {
                            write(top + 1 + r as u32, left + i as u16, value);
                        }
                    }
                }
                if let Some((row, column, value)) = &far {
                    write(*row, *column, value);
                }
                (table, book.save_to_buffer().expect("xlsx"))
            })
    })
}

/// How to damage a workbook's bytes.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(prop::sample::Index),
    Flip(Vec<(prop::sample::Index, u8)>),
    Zero(prop::sample::Index, u16),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Truncate),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8).prop_map(Damage::Flip),
        (any::<prop::sample::Index>(), 1u16..512).prop_map(|(at, len)| Damage::Zero(at, len)),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    match damage {
        Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        Damage::Flip(flips) => {
            for (at, xor) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= xor;
            }
        }
        Damage::Zero(at, len) => {
            let start = at.index(bytes.len());
            let end = (start + usize::from(*len)).min(bytes.len());
            bytes[start..end].fill(0);
        }
    }
    bytes
}

/// A workbook of one sheet assembled part by part, as a crafted file is: any
/// `<dimension>`, any sheet data, any shared strings.
fn zip_workbook(dimension: &str, sheet_data: &str, shared: &[String]) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let items: String = shared.iter().map(|s| format!("<si><t>{s}</t></si>")).collect();
    let parts = [
        (
            "_rels/.rels",
            format!(
                r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="表1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>"#
            ),
        ),
        ("xl/sharedStrings.xml", format!(r#"<sst xmlns="{MAIN}">{items}</sst>"#)),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// Cell references, including ones no sheet should hold.
fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..20, 0u32..20).prop_map(|(r, c)| format!("{}{}", column(c), r + 1)),
        1 => prop::sample::select(vec![
            "XFD1048576", "IV1048576", "IW1", "A1048577", "A0", "A", "1", "", "a1", "A-1", "A1:B2",
            "ZZZZZZZZZZZZZZ1", "A99999999999", "A4294967296", "A4294967295", "XFD4294967295",
            "\u{4e00}1",
        ])
        .prop_map(String::from),
        1 => "[A-Za-z]{0,8}[0-9]{0,12}",
    ]
}

fn column(mut c: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A cell of crafted sheet XML: an odd reference now and then, every cell type, odd values.
fn xml_cell(reference: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let number = prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "3.5",
        "1e308",
        "-1e308",
        "1e-320",
        "NaN",
        "inf",
        "abc",
        "",
        "99999999999999999999",
        "4294967296",
        "45000",
        "2025-03-10T00:00:00",
        "141021100001",
    ]);
    let kind = prop::sample::select(vec![
        "",
        " t=\"s\"",
        " t=\"n\"",
        " t=\"b\"",
        " t=\"e\"",
        " t=\"str\"",
        " t=\"d\"",
        " s=\"0\"",
        " s=\"999\"",
    ]);
    prop_oneof![
        2 => (reference.clone(), kind, number).prop_map(|(r, t, v)| format!(r#"<c r="{r}"{t}><v>{v}</v></c>"#)),
        3 => (reference.clone(), value()).prop_map(|(r, text)| {
            let text = text.replace('&', "&amp;").replace('<', "&lt;");
            format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
        }),
        1 => Just("<c><v>1</v></c>".to_string()),
        1 => reference.clone().prop_map(|r| format!(r#"<c r="{r}"><f>SUM(B1:B2)</f><v>2</v></c>"#)),
        1 => reference.prop_map(|r| format!(r#"<c r="{r}" s="1"/>"#)),
    ]
}

/// Sheet XML: a header row of the table's columns (or none), rows of cells mostly at
/// their own references, and broken pieces now and then (rows without numbers or with odd
/// ones, stray end tags, a cell left open).
fn sheet_data(table: Table) -> impl Strategy<Value = String> {
    let names: Vec<String> = table.columns().iter().map(|c| c.name.to_string()).collect();
    let header = prop_oneof![
        2 => Just(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!(r#"<c r="{}1" t="inlineStr"><is><t>{n}</t></is></c>"#, column(i as u32)))
                .collect::<String>(),
        )
        .prop_map(|cells| format!(r#"<row r="1">{cells}</row>"#)),
        1 => Just(String::new()),
    ];
    let row = (1u32..30, prop::collection::vec((0u32..20, prop::option::weighted(0.8, Just(()))), 0..6)).prop_flat_map(
        |(r, columns)| {
            let cells: Vec<_> = columns
                .into_iter()
                .map(|(c, own)| {
                    let at = match own {
                        Some(()) => Just(format!("{}{}", column(c), r + 1)).boxed(),
                        None => reference().boxed(),
                    };
                    xml_cell(at)
                })
                .collect();
            cells.prop_map(move |cells| format!(r#"<row r="{}">{}</row>"#, r + 1, cells.concat()))
        },
    );
    let broken = prop_oneof![
        2 => prop_oneof![Just("0"), Just("4294967295"), Just("99999999999"), Just("x"), Just("1048577")]
            .prop_map(|r| format!(r#"<row r="{r}">"#)),
        1 => Just("<row>".to_string()),
        2 => Just("</row>".to_string()),
        1 => Just("</c>".to_string()),
        1 => Just("<v>".to_string()),
        2 => xml_cell(reference().boxed()),
    ];
    let piece = prop_oneof![6 => row, 1 => broken];
    (header, prop::collection::vec(piece, 0..10)).prop_map(|(header, pieces)| header + &pieces.concat())
}

fn dimension() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("A1".to_string()),
        1 => prop::sample::select(vec![
            "A1:XFD1048576", "B2:A1", "Z9:A1", "", "A", "A1:B2:C3", "ZZZZZZZZ1:A1", "A1:A4294967295", "XFD1:A1048576",
        ])
        .prop_map(String::from),
        1 => (reference(), reference()).prop_map(|(a, b)| format!("{a}:{b}")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..512), table in table()) {
        check(table, "台账.csv", &bytes)?;
    }

    #[test]
    fn arbitrary_text_as_csv(text in "\\PC{0,256}", table in table()) {
        check(table, "台账.csv", text.as_bytes())?;
    }

    #[test]
    fn structured_csv(
        (table, headers, rows) in headers().prop_flat_map(|(t, h)| { let r = rows(t, &h); (Just(t), Just(h), r) }),
        shape in csv_shape(),
    ) {
        let bytes = csv_bytes(&headers, &rows, &shape);
        check(table, "台账.csv", &bytes)?;
    }

    #[test]
    fn arbitrary_bytes_as_json_lines(bytes in prop::collection::vec(any::<u8>(), 0..512), table in table()) {
        let mut bytes = bytes;
        bytes.insert(0, b'{');
        check(table, "台账.jsonl", &bytes)?;
    }

    #[test]
    fn structured_json_lines((table, bytes) in json_lines()) {
        check(table, "台账.jsonl", &bytes)?;
    }

    #[test]
    fn arbitrary_bytes_as_xlsx(bytes in prop::collection::vec(any::<u8>(), 0..512), table in table()) {
        let mut bytes = bytes;
        bytes.splice(0..0, *b"PK\x03\x04");
        check(table, "台账.xlsx", &bytes)?;
    }

    #[test]
    fn random_small_workbooks((table, bytes) in xlsx_workbook()) {
        check(table, "台账.xlsx", &bytes)?;
    }

    #[test]
    fn damaged_workbooks((table, bytes) in xlsx_workbook(), damage in damage()) {
        check(table, "台账.xlsx", &apply(bytes, &damage))?;
    }

    #[test]
    fn crafted_sheet_xml(
        dimension in dimension(),
        (table, data) in table().prop_flat_map(|table| (Just(table), sheet_data(table))),
        shared in prop::collection::vec(value(), 0..4),
    ) {
        let shared: Vec<String> = shared.iter().map(|s| s.replace('&', "&amp;").replace('<', "&lt;")).collect();
        check(table, "台账.xlsx", &zip_workbook(&dimension, &data, &shared))?;
    }
}

// Regressions: cases the properties found, kept.

/// The tokens `check` saw for a workbook of `dimension` and `sheet_data`.
fn token_of_crafted(dimension: &str, sheet_data: &str) -> String {
    let bytes = zip_workbook(dimension, sheet_data, &[]);
    if let Err(failure) = check(Table::Communities, "台账.xlsx", &bytes) {
        panic!("{failure}");
    }
    match read(Table::Communities, "台账.xlsx", &bytes) {
        Ok(_) => "ok".to_string(),
        Err(error) => {
            let message = error.to_string();
            let token = message.rsplit('(').find_map(|part| part.split_once(')').map(|(inner, _)| inner.to_string()));
            token.unwrap_or_default()
        }
    }
}

/// `crafted_sheet_xml` found: a `<dimension ref="B2:A1">` (ending before it starts) made
/// calamine subtract past zero, a panic in debug builds (release builds wrap). Fixed by
/// building calamine without overflow checks in the dev profile too (Cargo.toml); the
/// reader never uses the declared dimension.
#[test]
fn a_dimension_ending_before_it_starts() {
    assert_eq!(token_of_crafted("B2:A1", ""), "missing_header");
    let header = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>community_code</t></is></c></row>"#;
    assert_eq!(token_of_crafted("Z9:A1", header), "missing_column");
}

/// References whose column letters or row digits overflow calamine's u32 arithmetic (the
/// same class of panic in debug builds): the wrapped positions are refused as out of range
/// or as malformed, and nothing panics.
#[test]
fn cell_references_past_u32() {
    for reference in ["ZZZZZZZZZZZZZZ1", "A99999999999", "XFD4294967295", "A4294967296"] {
        let data = format!(r#"<row r="1"><c r="{reference}"><v>1</v></c></row>"#);
        let token = token_of_crafted("A1", &data);
        assert!(
            ["sheet_out_of_range", "malformed_file", "missing_header", "missing_column"].contains(&token.as_str()),
            "{reference}: {token}"
        );
    }
    let data = r#"<row r="99999999999"><c><v>1</v></c></row><row r="4294967295"></row><row><c><v>2</v></c></row>"#;
    let token = token_of_crafted("A1", data);
    assert!(["sheet_out_of_range", "malformed_file"].contains(&token.as_str()), "{token}");
}
