//! Ledgers as community offices keep them: a merged title, a 填报单位 line and a blank row
//! above the header, a 填表说明 row below it, 合计 and 制表人 rows at the end. They ingest
//! whole, errors carry the sheet's row numbers, a file without a recognisable header names
//! the closest row, `--header-row` overrides, and a near-miss value gets a suggestion.
//!
//! The six topics are written out below and counted by hand; the XLSX is built here with
//! rust_xlsxwriter (merged ranges included) rather than committed as a binary.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use crate::ingest_cli::{Wh, code, stderr};
use crate::support::samples;

const TITLE: &str = "霞寨社区说事议事台账（2025年）";

/// The contract's Chinese headers of topics, in contract order.
const HEADERS: [&str; 15] = [
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
    "公示渠道",
];

/// Six topics of community 141021100001 (its cadres C01–C03 and session S20250130 come
/// from the canonical samples).
const TOPICS: [&str; 6] = [
    "141021100001,TX01,S20250130,3号楼楼道照明维修,基础设施,入户走访,2025-01-10,C01,社区自办,,2025-01-25,已办结,2025-01-20,2025-01-22,公示栏",
    "141021100001,TX02,S20250130,小区垃圾清运不及时,环境卫生,微信留言,2025-01-12,C02,部门联办,城管局,2025-02-12,已办结,2025-02-10,,",
    "141021100001,TX03,,广场舞噪音扰民,邻里纠纷,群众来访,2025-01-15,C01,社区自办,,2025-01-30,已解释,2025-01-28,2025-02-01,居民群",
    "141021100001,TX04,S20250130,老年食堂开办咨询,养老托育,热线电话,2025-01-18,C03,全程代办,民政局,2025-03-18,办理中,,,",
    "141021100001,TX05,,电动车违规充电,治安消防,网格上报,2025-01-20,C02,部门联办,消防队、供电局,2025-02-20,已办结,2025-02-15,2025-02-18,公众号",
    "141021100001,TX06,,物业费公示,物业管理,物业反映,2025-01-22,C03,社区自办,,2025-02-05,待议,,,",
];

/// Column of 办理状态 (status).
const STATUS: usize = 11;

/// A warehouse holding the canonical communities, cadres and sessions, which the topics
/// refer to.
fn warehouse() -> Wh {
    let wh = Wh::new();
    for table in ["communities", "cadres", "sessions"] {
        let file = samples().join("canonical").join(format!("{table}.csv"));
        let out = wh.ingest(&["--county", "141021"], table, &file, &[]);
        assert_eq!(code(&out), 0, "{table}: {}", stderr(&out));
    }
    wh
}

/// The topics, with `status` instead of the third topic's status when given.
fn topics(status: Option<&str>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = TOPICS.iter().map(|r| r.split(',').map(str::to_string).collect()).collect();
    if let Some(status) = status {
        rows[2][STATUS] = status.to_string();
    }
    rows
}

/// The office's CSV: title, 填报单位 line, a blank row (commas, as Excel saves it), the
/// header on row 4 (a 序号 column first, required columns marked `*`, a note in brackets),
/// a 说明 row on row 5, the topics on rows 6–11, two numbered rows left empty, then 合计
/// and 制表人 rows. Saved as GB18030, as Excel on Chinese Windows does.
fn office_csv(dir: &Path, name: &str, rows: &[Vec<String>]) -> PathBuf {
    let pad = |cells: &[&str]| {
        let mut line: Vec<&str> = cells.to_vec();
        line.resize(HEADERS.len() + 1, "");
        line.join(",")
    };
    let header = HEADERS.map(|h| match h {
        "社区代码" | "议题编号" | "办理状态" => format!("*{h}"),
        "办结日期" => format!("{h}（已办结、已解释必填）"),
        other => other.to_string(),
    });
    let mut lines = vec![
        pad(&[TITLE]),
        pad(&["填报单位：霞寨社区", "", "", "", "", "填报日期：2025年3月31日"]),
        pad(&[]),
        format!("序号,{}", header.join(",")),
        pad(&["说明：日期写作 2025-03-15；办结、已解释的议题须填办结日期"]),
    ];
    lines.extend(rows.iter().enumerate().map(|(i, r)| format!("{},{}", i + 1, r.join(","))));
    lines.extend([pad(&["7"]), pad(&["8"])]);
    lines.push(pad(&["合计", "", "", "", "共 6 件"]));
    lines.push(pad(&["制表人：王芳", "", "", "", "", "审核人：李明"]));
    let text = lines.join("\r\n") + "\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write csv");
    path
}

/// The office's workbook: the title merged across all columns (row 1), a 填报单位 line
/// (row 2), a blank row, a two-row header (rows 4–5) whose columns are merged down over
/// both rows except 办理情况, a group title merged over the four columns below it, a
/// 填表说明 row (row 6), the topics on rows 7–12, then 合计 and 制表人 rows. A 填表说明
/// sheet comes first, as in many offices' workbooks.
fn office_xlsx(dir: &Path, name: &str, rows: &[Vec<String>]) -> PathBuf {
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("填表说明").expect("name");
    notes.write_string(0, 0, "填表说明").expect("notes");
    notes.write_string(1, 0, "1. 社区代码为 12 位统计用区划代码").expect("notes");
    let sheet = book.add_worksheet();
    let plain = Format::new();
    let last = (HEADERS.len() - 1) as u16;
    sheet.merge_range(0, 0, 0, last, TITLE, &plain).expect("title");
    sheet.merge_range(1, 0, 1, 4, "填报单位：霞寨社区", &plain).expect("unit");
    sheet.write_string(1, 5, "填报日期：2025年3月31日").expect("date");
    // 办理方式, 联办单位, 办理时限, 办理状态 (columns 8–11) sit under 办理情况.
    let grouped = 8..=11u16;
    for (column, header) in HEADERS.iter().enumerate() {
        let column = column as u16;
        if grouped.contains(&column) {
            sheet.write_string(4, column, *header).expect("sub-header");
        } else {
            sheet.merge_range(3, column, 4, column, header, &plain).expect("header");
        }
    }
    sheet.merge_range(3, 8, 3, 11, "办理情况", &plain).expect("group");
    sheet.write_string(5, 0, "填表说明：带“已办结”“已解释”的议题须填办结日期").expect("note");
    for (i, row) in rows.iter().enumerate() {
        for (column, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(6 + i as u32, column as u16, cell).expect("cell");
            }
        }
    }
    let end = 6 + rows.len() as u32;
    sheet.write_string(end, 0, "合计").expect("total");
    sheet.write_string(end, 3, "共 6 件").expect("total");
    sheet.write_string(end + 1, 0, "制表人：王芳").expect("signature");
    sheet.write_string(end + 1, 5, "审核人：李明").expect("signature");
    let path = dir.join(name);
    book.save(&path).expect("save xlsx");
    path
}

fn ingest(wh: &Wh, file: &Path, extra: &[&str]) -> std::process::Output {
    wh.ingest(&["--community", "141021100001"], "topics", file, extra)
}

#[test]
fn office_csv_and_xlsx_ingest_whole() {
    for (kind, header_row) in [("csv", 4), ("xlsx", 5)] {
        let wh = warehouse();
        let file = match kind {
            "csv" => office_csv(wh.dir.path(), "议题台账.csv", &topics(None)),
            _ => office_xlsx(wh.dir.path(), "议题台账.xlsx", &topics(None)),
        };
        let out = ingest(&wh, &file, &[]);
        assert_eq!(code(&out), 0, "{kind}: {}", stderr(&out));
        assert_eq!(wh.rows("topics"), 6, "{kind}: the six hand-counted topics");
        let said = stderr(&out);
        assert!(said.contains(&format!("表头在第 {header_row} 行")), "{kind}: {said}");
        assert!(said.contains("“合计”") && said.contains("“制表人：王芳”"), "{kind}: {said}");
    }
}

#[test]
fn an_error_in_a_data_row_carries_the_sheets_row_number_and_a_suggestion() {
    // The third topic is on row 8 of the CSV (header on 4, 说明 on 5) and row 9 of the
    // workbook (header on 5, 填表说明 on 6).
    // The message shows the header as written (the CSV marks it required with `*`).
    for (kind, row, header) in [("csv", 8, "*办理状态"), ("xlsx", 9, "办理状态")] {
        let wh = warehouse();
        let rows = topics(Some("已完成"));
        let file = match kind {
            "csv" => office_csv(wh.dir.path(), "议题台账.csv", &rows),
            _ => office_xlsx(wh.dir.path(), "议题台账.xlsx", &rows),
        };
        let rejects = wh.dir.path().join(format!("{kind}.rejects.csv"));
        let out = ingest(&wh, &file, &["--rejects-out", rejects.to_str().expect("utf8")]);
        assert_eq!(code(&out), 1, "{kind}: {}", stderr(&out));
        let said = stderr(&out);
        let expected = format!(
            "第{row}行 列“{header}”(status) 值“已完成”：不是可选值之一：待议 pending、办理中 in_progress、已办结 resolved、已解释 explained；是否为：已办结？ (unknown_enum)"
        );
        assert!(said.contains(&expected), "{kind}: {said}");
        assert_eq!(wh.rows("topics"), 0, "{kind}: strict, nothing written");
        // The rejects file records the same row number, and only that row.
        let mut reader = csv::Reader::from_path(&rejects).expect("rejects");
        let at = reader.headers().expect("headers").iter().position(|h| h == "原文件行号").expect("row column");
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
        assert_eq!(records.len(), 1, "{kind}");
        assert_eq!(&records[0][at], row.to_string(), "{kind}: 原文件行号");
    }
}

#[test]
fn without_a_recognisable_header_the_closest_row_is_named() {
    let wh = warehouse();
    let mut text = format!("{TITLE}\n填报单位：霞寨社区\n\n");
    // 编号 and 状态 are no aliases of topic_id and status.
    let headers = HEADERS.map(|h| match h {
        "议题编号" => "编号",
        "办理状态" => "状态",
        other => other,
    });
    text.push_str(&headers.join(","));
    text.push('\n');
    text.push_str(TOPICS[0]);
    text.push('\n');
    let file = wh.dir.path().join("无表头.csv");
    std::fs::write(&file, text).expect("write");
    let out = ingest(&wh, &file, &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("缺少议题表的必需列：议题编号(topic_id)、办理状态(status)（第 4 行）"), "{said}");
    assert!(said.contains("最接近表头的是第 4 行"), "{said}");
}

#[test]
fn header_row_overrides_detection() {
    let wh = warehouse();
    // Forty lines of instructions push the header past the rows searched.
    let mut text: String = (1..=40).map(|i| format!("填表说明第{i}条：按实际情况填写\n")).collect();
    text.push_str(&HEADERS.join(","));
    text.push('\n');
    for row in TOPICS {
        text.push_str(row);
        text.push('\n');
    }
    let file = wh.dir.path().join("说明很长.csv");
    std::fs::write(&file, text).expect("write");
    let out = ingest(&wh, &file, &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("前 30 个非空行中没有一行包含全部必需列"), "{}", stderr(&out));
    // A wrong row named: its missing columns, with its number.
    let out = ingest(&wh, &file, &["--header-row", "40"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("（第 40 行） (missing_column)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("第 40 行是指定的表头行"), "{}", stderr(&out));
    let out = ingest(&wh, &file, &["--header-row", "0"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("应为 1 到 1000 之间的行号"), "{}", stderr(&out));
    // The right one.
    let out = ingest(&wh, &file, &["--header-row", "41"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(wh.rows("topics"), 6);
}
