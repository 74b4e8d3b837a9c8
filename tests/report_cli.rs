//! `yishi report` as a statistician runs it: JSON keyed by the contract's names, Chinese
//! headers in CSV and tables, the 口径 footer, and recomputation at earlier versions.

use std::path::{Path, PathBuf};

use crate::support::yishi;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses")
}

fn warehouse(dir: &Path) -> String {
    let root = dir.join("wh").to_str().expect("utf8").to_string();
    assert!(yishi(&["--warehouse", &root, "init"]).status.success());
    for table in ingest::Table::ALL {
        let file = fixtures().join(format!("{}.csv", table.name()));
        let out = yishi(&["--warehouse", &root, "ingest", table.name(), file.to_str().expect("utf8")]);
        assert!(out.status.success(), "{table}: {}", String::from_utf8_lossy(&out.stderr));
    }
    root
}

fn report(root: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--warehouse", root, "report"];
    all.extend_from_slice(args);
    yishi(&all)
}

fn json(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json array")
}

#[test]
fn json_rows_use_the_contract_names_and_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path());
    let rows = json(&report(&root, &["cadres", "--year", "2025", "--format", "json"]));
    let cadre = |id: &str| rows.iter().find(|r| r["cadre_id"] == id).unwrap_or_else(|| panic!("{id}")).clone();
    // tests/analyses.rs works these out by hand: K1 leads every topic to a perfect score.
    let k1 = cadre("K1");
    assert_eq!(
        (k1["score"].as_f64(), k1["grade"].as_str(), k1["rank_in_county"].as_i64()),
        (Some(100.0), Some("excellent"), Some(1))
    );
    // K6 leads only 2 topics: a score but no rank, not rated.
    let k6 = cadre("K6");
    assert_eq!((k6["score"].as_f64(), k6["grade"].as_str()), (Some(65.0), Some("not_rated")));
    assert!(k6["rank_in_county"].is_null() && k6["rank_in_community"].is_null());
    for key in [
        "county_code",
        "community_code",
        "cadre_id",
        "year",
        "completion_rate",
        "on_time_rate",
        "satisfaction_index",
        "rectification_rate",
    ] {
        assert!(k1.get(key).is_some(), "missing key {key}");
    }
    let quarterly = json(&report(&root, &["quarterly", "--year", "2025", "--quarter", "3", "--format", "json"]));
    let empty = &quarterly[0];
    // An empty quarter: counts 0, rates null, rectification_rate 1, session_rate 0.
    assert_eq!(empty["quarter"], 3);
    assert_eq!(empty["topics_raised"], 0);
    assert!(empty["completion_rate"].is_null() && empty["satisfaction_index"].is_null());
    assert_eq!((empty["rectification_rate"].as_f64(), empty["session_rate"].as_f64()), (Some(1.0), Some(0.0)));
}

#[test]
fn tables_and_csv_speak_chinese_and_carry_the_footer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path());
    let out = report(&root, &["cadres", "--year", "2025"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "干部",
        "得分",
        "优秀",
        "未评定",
        "—",
        "干部年度考核｜2025年｜全部县区（平台账号）｜评分方案：数据契约默认方案",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    // A terminal gets the key figures (the codes left out) and a hint to the rest.
    assert!(String::from_utf8_lossy(&out.stderr).contains("--all-columns"), "no hint to the other columns");
    assert!(!text.contains("社区代码") && !text.contains("县区代码"), "the narrow table shows codes:\n{text}");
    let all = report(&root, &["cadres", "--year", "2025", "--all-columns"]);
    let all = String::from_utf8_lossy(&all.stdout);
    assert!(all.contains("社区代码") && all.contains("干部编号") && all.contains("优秀"), "{all}");
    // A county's report names the county, then the account.
    let out = report(&root, &["communities", "--year", "2025", "--county", "141026"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("社区年度考核｜2025年｜甲县（县区账号 141026）｜"), "{text}");
    let csv_path = dir.path().join("q.csv");
    let out = report(
        &root,
        &[
            "quarterly",
            "--year",
            "2025",
            "--quarter",
            "1",
            "--format",
            "csv",
            "--out",
            csv_path.to_str().expect("utf8"),
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("数据版本"), "口径 on stderr");
    let bytes = std::fs::read(&csv_path).expect("csv");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf8");
    let header = text.lines().next().expect("header");
    assert!(header.starts_with("县区代码,县区名称,社区代码,社区名称,年度,季度"), "{header}");
    assert!(header.contains("办结率") && header.contains("满意度指数"));

    let out = report(&root, &["votes", "--year", "2025"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("未知的报表“votes”"));
}

#[test]
fn as_of_version_reproduces_a_report_after_a_correction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path());
    let args = ["communities", "--year", "2025", "--format", "json"];
    let before = json(&report(&root, &args));
    let footer = String::from_utf8_lossy(&report(&root, &args).stderr).into_owned();
    let versions = footer.split("数据版本：").nth(1).and_then(|s| s.split('｜').next()).expect("versions").to_string();

    let corrected = fixtures().join("topics_corrected.csv");
    let out = yishi(&["--warehouse", &root, "ingest", "topics", corrected.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = json(&report(&root, &args));
    assert_ne!(before, after, "the correction changes the year's figures");

    let mut again_args = args.to_vec();
    again_args.extend(["--as-of-version", &versions]);
    assert_eq!(json(&report(&root, &again_args)), before);
}

/// The breakdowns as a clerk downloads them: CSV and XLSX show the contract's Chinese
/// labels (议题类别 基础设施, 来源渠道 热线电话) and 是/否, never a token; JSON keeps the
/// token with its label beside it. Worked by hand from the fixture's topics of 141026100001
/// in 2025 Q1: T03 infrastructure/hotline, T04 policy/walk_in, T05 sanitation/wechat,
/// T06 sanitation/hotline, T07 infrastructure/hotline.
#[test]
fn breakdowns_carry_chinese_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path());
    fn by<'a>(group: &'a str, format: &'a str) -> Vec<&'a str> {
        vec!["quarterly", "--by", group, "--format", format, "--year", "2025", "--quarter", "1"]
    }
    // JSON: the token and its label, side by side.
    let rows = json(&report(&root, &by("channel", "json")));
    let a1: Vec<_> = rows.iter().filter(|r| r["community_code"] == "141026100001").collect();
    let row = |token: &str| a1.iter().find(|r| r["channel"] == token).unwrap_or_else(|| panic!("{token}: {a1:?}"));
    assert_eq!(
        (row("hotline")["channel_label"].as_str(), row("hotline")["topics_raised"].as_i64()),
        (Some("热线电话"), Some(3))
    );
    assert_eq!(
        (row("walk_in")["channel_label"].as_str(), row("walk_in")["topics_raised"].as_i64()),
        (Some("群众来访"), Some(1))
    );
    let quarterly = json(&report(&root, &["quarterly", "--format", "json", "--year", "2025", "--quarter", "1"]));
    let flagged = quarterly.iter().find(|r| r["community_code"] == "141026100001").expect("A1");
    assert_eq!(flagged["quality_flags"], "small_sample;closed_after_evaluated"); // tests/analyses.rs
    assert_eq!(flagged["quality_flags_label"], "样本过少、办结晚于评价");

    let tokens: Vec<&str> =
        ingest::schema::enumerations().iter().flat_map(|e| e.values.iter().map(|(_, t)| *t)).collect();
    // CSV: labels under the Chinese header, no token column, no token cell.
    let csv_path = dir.path().join("by-category.csv");
    let mut args = by("category", "csv");
    args.extend(["--out", csv_path.to_str().expect("utf8")]);
    assert!(report(&root, &args).status.success());
    let text = String::from_utf8(std::fs::read(&csv_path).expect("csv")[3..].to_vec()).expect("utf8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    let (community, category, raised) = (at("社区代码"), at("议题类别"), at("议题数"));
    assert!(!headers.iter().any(|h| h == "议题类别代码"), "{headers:?}");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    for cell in records.iter().flat_map(|r| r.iter()) {
        assert!(!tokens.contains(&cell), "token {cell} in the CSV:\n{text}");
    }
    let infrastructure = records
        .iter()
        .find(|r| &r[community] == "141026100001" && &r[category] == "基础设施")
        .unwrap_or_else(|| panic!("基础设施 of 141026100001:\n{text}"));
    assert_eq!(&infrastructure[raised], "2");
    // The cadres' CSV: 参评 as 是/否, the grade in Chinese only.
    let cadres_path = dir.path().join("cadres.csv");
    let out =
        report(&root, &["cadres", "--year", "2025", "--format", "csv", "--out", cadres_path.to_str().expect("utf8")]);
    assert!(out.status.success());
    let text = String::from_utf8(std::fs::read(&cadres_path).expect("csv")[3..].to_vec()).expect("utf8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert!(!headers.iter().any(|h| h == "等级代码"), "{headers:?}");
    let rated = headers.iter().position(|h| h == "参评").expect("参评");
    let values: Vec<String> = reader.records().map(|r| r.expect("record")[rated].to_string()).collect();
    assert!(values.iter().all(|v| v == "是" || v == "否") && values.contains(&"否".to_string()), "{values:?}");

    // XLSX: the rows sheet shows the same labels.
    use calamine::Reader;
    let xlsx_path = dir.path().join("by-channel.xlsx");
    let mut args = by("channel", "xlsx");
    args.extend(["--out", xlsx_path.to_str().expect("utf8")]);
    assert!(report(&root, &args).status.success());
    let mut book = calamine::open_workbook_auto(&xlsx_path).expect("xlsx");
    let sheet = dashboards::xlsx::sheet_name(warehouse::analyses::ReportKind::QuarterlyByChannel);
    let range = book.worksheet_range(&sheet).expect("rows sheet");
    let cells: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.contains(&"来源渠道".to_string()) && cells.contains(&"热线电话".to_string()), "{cells:?}");
    for cell in &cells {
        assert!(!tokens.contains(&cell.as_str()), "token {cell} in the workbook");
    }
}

/// A build without the `ballista` feature says so when asked for a Ballista engine or a
/// cluster, before reading anything, instead of computing locally.
#[cfg(not(feature = "ballista"))]
#[test]
fn a_build_without_ballista_says_it_cannot_use_a_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh");
    let root = root.to_str().expect("utf-8");
    let out =
        yishi(&["--warehouse", root, "--engine", "ballista://127.0.0.1:50050", "report", "cadres", "--year", "2025"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("没有包含 Ballista"), "{err}");
    let out = yishi(&["cluster", "scheduler"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("没有包含 Ballista") && err.contains("--features ballista"), "{err}");
    let out = yishi(&["--warehouse", root, "--engine", "spark://x", "tables"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("不支持的计算引擎"), "{err}");
}
