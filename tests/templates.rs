//! `yishi template`: the blank workbook of each table, filled in place by a script (rows
//! written into the template's own data sheet, so its notes, dropdowns, 示例 and 填写说明
//! sheets travel with the upload, as a clerk's filled file would) and ingested in the
//! table order. Every row must be accepted, and the values typed in must be what the
//! warehouse holds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use calamine::{Reader, Xlsx, open_workbook};

use crate::support::yishi;

/// A cell typed into the template: text, a whole number or a date.
#[derive(Clone, Copy)]
enum Cell {
    Text(&'static str),
    Number(i64),
    Date(i32, u32, u32),
    Empty,
}

use Cell::{Date, Empty, Number, Text};

/// The rows typed into each table's template, under its headers in contract order.
fn rows(table: &str) -> Vec<Vec<Cell>> {
    let c1 = Text("141026100001");
    let c2 = Text("141026100002");
    match table {
        "communities" => vec![
            vec![
                c1,
                Text("城关社区"),
                Text("141026"),
                Text("安泽县"),
                Text("府城镇"),
                Number(1260),
                Number(3580),
                Number(96),
            ],
            vec![c2, Text("和川村"), Text("141026"), Text("安泽县"), Text("和川镇"), Empty, Number(820), Number(31)],
        ],
        "cadres" => vec![
            vec![c1, Text("GB001"), Text("王建国"), Text("书记"), Text("是")],
            vec![c1, Text("GB002"), Text("张丽"), Text("网格员"), Text("否")],
            vec![c2, Text("GB001"), Text("刘强"), Text("主任"), Text("是")],
        ],
        "sessions" => vec![
            vec![
                c1,
                Text("HY001"),
                Date(2025, 3, 15),
                Text("定期"),
                Text("议事厅"),
                Number(23),
                Number(12),
                Number(6),
                Text("消防救援站；供电所"),
            ],
            vec![c2, Text("HY001"), Date(2025, 3, 30), Text("急事急说"), Text("现场"), Number(9), Empty, Empty, Empty],
        ],
        "topics" => vec![
            vec![
                c1,
                Text("YT001"),
                Text("HY001"),
                Text("3号楼门禁损坏"),
                Text("基础设施"),
                Text("入户走访"),
                Date(2025, 3, 10),
                Text("GB001"),
                Text("社区自办"),
                Empty,
                Date(2025, 3, 31),
                Text("已办结"),
                Date(2025, 3, 25),
                Date(2025, 3, 28),
                Text("公示栏"),
            ],
            vec![
                c1,
                Text("YT002"),
                Empty,
                Text("广场噪音扰民"),
                Text("邻里纠纷"),
                Text("微信留言"),
                Date(2025, 3, 12),
                Text("GB002"),
                Text("部门联办"),
                Text("派出所"),
                Date(2025, 4, 15),
                Text("办理中"),
                Empty,
                Empty,
                Empty,
            ],
            vec![
                c2,
                Text("YT001"),
                Text("HY001"),
                Text("村道路灯不亮"),
                Text("基础设施"),
                Text("网格上报"),
                Date(2025, 3, 29),
                Text("GB001"),
                Text("部门联办"),
                Text("供电所"),
                Date(2025, 4, 10),
                Text("已解释"),
                Date(2025, 4, 8),
                Empty,
                Empty,
            ],
        ],
        "evaluations" => vec![
            vec![
                c1,
                Text("PJ001"),
                Text("YT001"),
                Date(2025, 4, 2),
                Text("李秀兰"),
                Number(5),
                Number(4),
                Number(4),
                Number(5),
                Text("满意"),
                Text("修得及时"),
            ],
            vec![
                c2,
                Text("PJ001"),
                Text("YT001"),
                Date(2025, 4, 9),
                Text("赵大爷"),
                Number(2),
                Number(2),
                Number(1),
                Number(2),
                Text("不满意"),
                Empty,
            ],
        ],
        "rectifications" => {
            vec![vec![c2, Text("ZG001"), Text("YT001"), Date(2025, 4, 10), Date(2025, 4, 30), Empty, Empty]]
        }
        other => panic!("no rows for {other}"),
    }
}

/// Days since Excel's epoch (1899-12-30) of a calendar date, worked out by the civil
/// calendar (Howard Hinnant's days_from_civil), independent of the code under test.
fn excel_serial(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let unix_days = era * 146_097 + doe - 719_468;
    unix_days + 25_569
}

fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut s = String::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

/// The style index the template gives column `i` (0-based) in its `<cols>`.
fn column_style(sheet: &str, i: usize) -> String {
    let n = i + 1;
    for col in sheet.split("<col ").skip(1) {
        let attr = |name: &str| {
            col.split(&format!("{name}=\"")).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("").to_string()
        };
        let (min, max): (usize, usize) = (attr("min").parse().unwrap_or(0), attr("max").parse().unwrap_or(0));
        if min <= n && n <= max {
            return attr("style");
        }
    }
    "0".into()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The first sheet of the template with `cells` typed under its header row, as Excel
/// stores them: text inline, numbers and dates as numbers in the column's own style.
fn fill_sheet(sheet: &str, cells: &[Vec<Cell>]) -> String {
    let mut rows = String::new();
    for (r, row) in cells.iter().enumerate() {
        let n = r + 2;
        rows.push_str(&format!("<row r=\"{n}\">"));
        for (i, cell) in row.iter().enumerate() {
            let reference = format!("{}{n}", column_letter(i));
            let style = column_style(sheet, i);
            match cell {
                Text(t) => rows.push_str(&format!(
                    "<c r=\"{reference}\" s=\"{style}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    escape(t)
                )),
                Number(v) => rows.push_str(&format!("<c r=\"{reference}\" s=\"{style}\"><v>{v}</v></c>")),
                Date(y, m, d) => rows
                    .push_str(&format!("<c r=\"{reference}\" s=\"{style}\"><v>{}</v></c>", excel_serial(*y, *m, *d))),
                Empty => {}
            }
        }
        rows.push_str("</row>");
    }
    let last = column_letter(cells.iter().map(Vec::len).max().unwrap_or(1) - 1);
    let dimension = sheet.split("<dimension ref=\"").nth(1).and_then(|r| r.split('"').next()).expect("dimension");
    sheet
        .replacen(
            &format!("<dimension ref=\"{dimension}\""),
            &format!("<dimension ref=\"A1:{last}{}\"", cells.len() + 1),
            1,
        )
        .replacen("</sheetData>", &format!("{rows}</sheetData>"), 1)
}

/// Every part of a workbook, by name, in order.
fn parts(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read part");
            (entry.name().expect("part name").to_string(), bytes)
        })
        .collect()
}

/// The template at `template` with `cells` typed into its data sheet, written to `out`.
fn fill(template: &Path, cells: &[Vec<Cell>], out: &Path) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).expect("create"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in parts(template) {
        writer.start_file(name.as_str(), options).expect("part");
        if name == "xl/worksheets/sheet1.xml" {
            let sheet = String::from_utf8(bytes).expect("utf-8 sheet");
            writer.write_all(fill_sheet(&sheet, cells).as_bytes()).expect("write sheet");
        } else {
            writer.write_all(&bytes).expect("write part");
        }
    }
    writer.finish().expect("finish");
}

fn text_of(path: &Path, part: &str) -> String {
    let (_, bytes) = parts(path).into_iter().find(|(n, _)| n == part).unwrap_or_else(|| panic!("no {part}"));
    String::from_utf8(bytes).expect("utf-8")
}

fn template(dir: &Path, table: &str) -> PathBuf {
    let out = dir.join(format!("{table}.xlsx"));
    let run = yishi(&["template", table, "--out", out.to_str().expect("path")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    out
}

#[test]
fn the_topics_template_has_chinese_headers_dropdowns_dates_and_instructions() {
    let dir = tempfile::tempdir().expect("tempdir");
    // By its Chinese name.
    let path = template(dir.path(), "议题");
    let mut book: Xlsx<_> = open_workbook(&path).expect("workbook");
    assert_eq!(book.sheet_names(), ["议题", "示例", "填写说明"]);
    let data = book.worksheet_range("议题").expect("data sheet");
    let headers: Vec<String> = (0..15).map(|c| data.get((0, c)).map(|v| v.to_string()).unwrap_or_default()).collect();
    assert_eq!(
        headers,
        [
            "社区代码",
            "议题编号",
            "会议编号",
            "议题名称",
            "议题类别",
            "来源渠道",
            "提出日期",
            "责任人编号",
            "办理方式",
            "联办单位",
            "办理时限",
            "办理状态",
            "办结日期",
            "公示日期",
            "公示渠道"
        ]
    );
    assert_eq!(data.height(), 1, "the data sheet holds the header row only");
    let example = book.worksheet_range("示例").expect("example sheet");
    assert_eq!(example.height(), 2);
    let guide = book.worksheet_range("填写说明").expect("guide sheet");
    let guide_text: Vec<String> = guide.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    let guide_text = guide_text.join("\n");
    assert!(guide_text.contains("社区 → 社区干部 → 说事议事会 → 议题 → 评价 → 整改"), "{guide_text}");
    assert!(guide_text.contains("办结日期"), "{guide_text}");

    let sheet = text_of(&path, "xl/worksheets/sheet1.xml");
    // 办理状态 is column L: a dropdown of the Chinese labels.
    assert!(sheet.contains("sqref=\"L2:L1048576\"><formula1>\"待议,办理中,已办结,已解释\"</formula1>"), "{sheet}");
    assert!(sheet.contains(
        "<formula1>\"基础设施,环境卫生,物业管理,治安消防,就业社保,养老托育,邻里纠纷,政策咨询,其他\"</formula1>"
    ));
    // 提出日期 (column G) is formatted as a date: its style's number format is yyyy-mm-dd.
    let styles = text_of(&path, "xl/styles.xml");
    let style: usize = column_style(&sheet, 6).parse().expect("style index");
    let xfs = styles.split("<cellXfs").nth(1).expect("cellXfs");
    let xf = xfs.split("<xf ").nth(style + 1).expect("xf");
    let format_id = xf.split("numFmtId=\"").nth(1).and_then(|r| r.split('"').next()).expect("numFmtId");
    assert!(styles.contains(&format!("<numFmt numFmtId=\"{format_id}\" formatCode=\"yyyy-mm-dd\"/>")), "{styles}");
    // Required columns are marked: 议题名称 has a note saying so, 会议编号 says optional.
    let notes = text_of(&path, "xl/comments1.xml");
    assert!(notes.contains("必填。议题名称"), "{notes}");
    assert!(notes.contains("选填。议定该议题的会议编号"), "{notes}");
}

#[test]
fn filled_templates_ingest_whole_in_table_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let warehouse = dir.path().join("wh");
    let wh = warehouse.to_str().expect("path");
    assert!(yishi(&["init", "--warehouse", wh]).status.success());
    let expected =
        [("communities", 2), ("cadres", 3), ("sessions", 2), ("topics", 3), ("evaluations", 2), ("rectifications", 1)];
    for (table, count) in expected {
        let blank = template(dir.path(), table);
        let filled = dir.path().join(format!("{table}-filled.xlsx"));
        fill(&blank, &rows(table), &filled);
        let run = yishi(&["ingest", table, filled.to_str().expect("path"), "--warehouse", wh, "--json"]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{table}: {stdout}\n{}", String::from_utf8_lossy(&run.stderr));
        let answer: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(answer[0]["batch"]["rows_accepted"], count, "{table}: {stdout}");
        assert_eq!(answer[0]["batch"]["rows_rejected"], 0, "{table}: {stdout}");
    }
    let sql = "SELECT title, raised_on, closed_on, status FROM topics \
               WHERE community_code = '141026100001' AND topic_id = 'YT001'";
    let run = yishi(&["sql", sql, "--warehouse", wh, "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&run.stdout).expect("sql json");
    assert_eq!(rows[0]["title"], "3号楼门禁损坏");
    assert_eq!(rows[0]["raised_on"], "2025-03-10");
    assert_eq!(rows[0]["closed_on"], "2025-03-25");
    assert_eq!(rows[0]["status"], "resolved");
    let run = yishi(&[
        "sql",
        "SELECT held_on, units FROM sessions WHERE kind = 'regular'",
        "--warehouse",
        wh,
        "--format",
        "json",
    ]);
    let rows: serde_json::Value = serde_json::from_slice(&run.stdout).expect("sql json");
    assert_eq!(rows[0]["held_on"], "2025-03-15");
    assert_eq!(rows[0]["units"], "消防救援站;供电所");
}

#[test]
fn csv_template_is_the_header_line_and_unknown_tables_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cadres.csv");
    let run = yishi(&["template", "干部", "--format", "csv", "--out", out.to_str().expect("path")]);
    assert!(run.status.success());
    assert_eq!(std::fs::read_to_string(&out).expect("csv"), "\u{feff}社区代码,干部编号,姓名,职务,是否党员\r\n");
    let run = yishi(&["template", "votes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("未知的表“votes”"));
}
