//! `yishi ingest` as a clerk uses it: every file shape, strict and partial batches, the
//! tenant rule, limits and exit codes.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{files_under, samples, yishi, yishi_in};

const COMMUNITY: &str = "141021100001";

pub(crate) struct Wh {
    pub(crate) dir: tempfile::TempDir,
    root: PathBuf,
}

impl Wh {
    pub(crate) fn new() -> Wh {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("wh");
        let out = yishi(&["--warehouse", root.to_str().expect("utf8"), "init"]);
        assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
        Wh { dir, root }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--warehouse", self.root.to_str().expect("utf8")];
        all.extend_from_slice(args);
        yishi_in(self.dir.path(), &all)
    }

    pub(crate) fn ingest(&self, scope: &[&str], table: &str, file: &Path, extra: &[&str]) -> Output {
        let mut args: Vec<&str> = scope.to_vec();
        args.extend(["ingest", table, file.to_str().expect("utf8")]);
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Table name → (rows, version) from `yishi tables --json`.
    fn tables(&self) -> serde_json::Value {
        let out = self.run(&["tables", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    }

    pub(crate) fn rows(&self, table: &str) -> u64 {
        let t = self.tables();
        let entry = t.as_array().expect("array").iter().find(|e| e["table"] == table).expect("table");
        entry["rows"].as_u64().expect("rows")
    }

    fn version(&self, table: &str) -> u64 {
        let t = self.tables();
        let entry = t.as_array().expect("array").iter().find(|e| e["table"] == table).expect("table");
        entry["version"].as_u64().expect("version")
    }

    /// Parquet files anywhere under a table's folder, committed or not.
    fn data_files(&self, table: &str) -> usize {
        parquet_files(&self.root.join(table)).len()
    }
}

/// The Parquet files under `dir`, in path order.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir).into_iter().filter(|path| path.extension().is_some_and(|x| x == "parquet")).collect()
}

pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TABLES: [&str; 6] = ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"];

fn manifest_rows(table: &str) -> u64 {
    let text = std::fs::read_to_string(samples().join("manifest.json")).expect("manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["rows"][table].as_u64().expect("count")
}

#[test]
fn gb18030_and_xlsx_samples_ingest_in_a_community_scope() {
    for (folder, ext) in [("gb18030", "csv"), ("xlsx", "xlsx")] {
        let wh = Wh::new();
        for table in TABLES {
            let file = samples().join(folder).join(format!("{table}.{ext}"));
            // The community reference table is written by a county account.
            let scope: &[&str] =
                if table == "communities" { &["--county", "141021"] } else { &["--community", COMMUNITY] };
            let out = wh.ingest(scope, table, &file, &[]);
            assert_eq!(code(&out), 0, "{folder}/{table}: {}", stderr(&out));
        }
        for table in TABLES {
            assert_eq!(wh.rows(table), manifest_rows(table), "{folder}/{table}");
        }
    }
}

#[test]
fn generated_jsonl_and_chinese_csv_ingest_completely() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, format, chinese) in
        [("jsonl", ingest::generator::OutputFormat::Jsonl, false), ("zh", ingest::generator::OutputFormat::Csv, true)]
    {
        let out_dir = dir.path().join(name);
        let config = ingest::generator::GeneratorConfig {
            counties: 1,
            communities_per_county: 2,
            years: 1,
            format,
            chinese,
            ..Default::default()
        };
        let summary = ingest::generator::generate(&config, &out_dir).expect("generate");
        let wh = Wh::new();
        for (table, file) in TABLES.iter().zip(&summary.files) {
            let out = wh.ingest(&[], table, file, &[]);
            assert_eq!(code(&out), 0, "{name}/{table}: {}", stderr(&out));
        }
        for table in ingest::Table::ALL {
            assert_eq!(wh.rows(table.name()), summary.rows[&table] as u64, "{name}/{table}");
        }
        stored_as_zstd_parquet(&wh.root.join("evaluations"));
    }
}

/// How the evaluations are stored: ZSTD Parquet, except the columns ZSTD hardly shrinks —
/// the pseudonyms (hex digits of a keyed hash), the delta-packed numbers and dates, the
/// dictionary-coded codes and enumerations — stored uncompressed; no dictionary for the
/// columns whose values hardly repeat (the key, the pseudonyms, the topic an evaluation
/// is about) nor for the packed ones; min/max only where a query can skip files by them.
fn stored_as_zstd_parquet(table: &Path) {
    use parquet::basic::{Compression, Encoding};
    use parquet::file::reader::FileReader;
    let file = parquet_files(table).into_iter().next().expect("an evaluations data file");
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&file).expect("open"))
        .expect("a Parquet file");
    let group = reader.metadata().row_group(0);
    let mut seen = Vec::new();
    for column in group.columns() {
        let name = column.column_path().string();
        let plain = ["evaluation_id", "respondent", "topic_id"].contains(&name.as_str());
        let packed = ["evaluated_on", "attitude", "efficiency", "result", "effect"].contains(&name.as_str());
        let coded = ["community_code", "verdict"].contains(&name.as_str());
        let expected = if name == "respondent" || packed || coded {
            Compression::UNCOMPRESSED
        } else {
            Compression::ZSTD(Default::default())
        };
        assert_eq!(
            std::mem::discriminant(&column.compression()),
            std::mem::discriminant(&expected),
            "{name} compression"
        );
        let dictionary = column.encodings().any(|e| e == Encoding::RLE_DICTIONARY);
        assert_eq!(dictionary, !plain && !packed, "{name}: dictionary {dictionary}");
        assert_eq!(column.encodings().any(|e| e == Encoding::DELTA_BINARY_PACKED), packed, "{name}: delta-packed");
        let ranged = ["community_code", "evaluated_on", "attitude"].contains(&name.as_str());
        if ranged || plain {
            assert_eq!(column.statistics().is_some_and(|s| s.min_bytes_opt().is_some()), ranged, "{name} min/max");
        }
        seen.push(name);
    }
    assert!(seen.len() >= 11, "{seen:?}");
}

#[test]
fn strict_batch_with_bad_rows_writes_nothing_and_lists_every_row() {
    let wh = Wh::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let rejects = dir.path().join("cadres.rejects.csv");
    let out = wh.ingest(
        &["--community", COMMUNITY],
        "cadres",
        &samples().join("bad/cadres.csv"),
        &["--rejects-out", rejects.to_str().expect("utf8")],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    for line in [3, 5, 8, 11, 13] {
        assert!(err.contains(&format!("第{line}行")), "row {line} missing from:\n{err}");
    }
    assert!(err.contains("值“队长”：不是可选值之一：书记 secretary"), "{err}");
    assert!(stdout(&out).contains("未写入任何数据"), "{}", stdout(&out));
    assert_eq!(wh.rows("cadres"), 0);
    assert_eq!(wh.version("cadres"), 0, "no commit at all");
    // Rows before the first bad one were already being written: those files are gone too.
    assert_eq!(wh.data_files("cadres"), 0, "a refused batch leaves no data file behind");

    // A file of several megabytes whose last row is bad, from two counties: the first
    // county's rows are complete once a hundred thousand rows of the other have passed,
    // so its file is written while the rest is read; the refusal must remove it.
    let mut big = String::from("community_code,cadre_id,cadre_name,role\n");
    for i in 0..1_000 {
        big.push_str(&format!("{COMMUNITY},C{i},张{i},member\n"));
    }
    for i in 0..150_000 {
        big.push_str(&format!("141022100001,C{i},王{i},member\n"));
    }
    big.push_str("141022100001,C-last,李,队长\n");
    let path = dir.path().join("big.csv");
    std::fs::write(&path, big).expect("write");
    let big_rejects = dir.path().join("big.rejects.csv");
    let out = wh.ingest(&[], "cadres", &path, &["--rejects-out", big_rejects.to_str().expect("utf8")]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("第151002行"), "{}", stderr(&out));
    assert_eq!((wh.rows("cadres"), wh.version("cadres")), (0, 0));
    assert_eq!(wh.data_files("cadres"), 0, "the files written before the bad row are removed");
    let batches: serde_json::Value = serde_json::from_slice(&wh.run(&["batches", "--json"]).stdout).expect("json");
    let refused = &batches.as_array().expect("array")[0];
    assert_eq!(refused["outcome"], "refused");
    assert_eq!((refused["rows_accepted"].as_u64(), refused["rows_rejected"].as_u64()), (Some(7), Some(5)));
}

#[test]
fn partial_batch_commits_valid_rows_and_rejects_can_be_fixed_and_reingested() {
    let wh = Wh::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let rejects = dir.path().join("rejects.csv");
    let args = ["--partial", "--rejects-out", rejects.to_str().expect("utf8")];
    let out = wh.ingest(&["--community", COMMUNITY], "cadres", &samples().join("bad/cadres.csv"), &args);
    assert_eq!(code(&out), 1, "rows were rejected: {}", stderr(&out));
    assert_eq!(wh.rows("cadres"), 7);

    // The rejects file opens in Excel (BOM), keeps the file's headers, and says why.
    let bytes = std::fs::read(&rejects).expect("rejects");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(&headers[0], "community_code");
    assert_eq!(&headers[headers.len() - 1], "错误原因");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 5);

    // The clerk fixes the role and the boolean and ingests the rejects file as it is.
    let fixed = text.replace(",队长,", ",委员,").replace(",也许,", ",是,");
    let fixed_path = dir.path().join("fixed.csv");
    std::fs::write(&fixed_path, fixed).expect("write");
    let out = wh.ingest(
        &["--community", COMMUNITY],
        "cadres",
        &fixed_path,
        &["--partial", "--rejects-out", dir.path().join("again.csv").to_str().expect("utf8")],
    );
    assert_eq!(code(&out), 1, "three rows are still bad: {}", stderr(&out));
    assert_eq!(wh.rows("cadres"), 9, "the two fixed rows were added");
}

#[test]
fn tenant_rule_rejects_rows_of_other_communities() {
    let wh = Wh::new();
    // canonical/cadres.csv holds two communities; a community account may write only its own.
    let out = wh.ingest(
        &["--community", COMMUNITY],
        "cadres",
        &samples().join("canonical/cadres.csv"),
        &["--rejects-out", "/dev/null"],
    );
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("社区代码不在上传者的范围内（社区账号 141021100001） (wrong_community_code)"), "{err}");
    assert!(!err.contains("值“141021100001”"), "own rows are fine: {err}");
    assert_eq!(wh.rows("cadres"), 0);

    // A county account of another county may not write this county's rows.
    let out = wh.ingest(
        &["--county", "141022"],
        "communities",
        &samples().join("canonical/communities.csv"),
        &["--rejects-out", "/dev/null"],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(wh.rows("communities"), 0);

    // A community account may not write the reference table at all.
    let out = wh.ingest(&["--community", COMMUNITY], "communities", &samples().join("canonical/communities.csv"), &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("forbidden_table"), "{}", stderr(&out));
}

#[test]
fn limits_and_bad_files_get_clear_errors() {
    let wh = Wh::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let communities = samples().join("canonical/communities.csv");

    let out = wh.ingest(&[], "communities", &communities, &["--max-file-size", "100"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("超过上限 100 字节 (file_too_large)"), "{}", stderr(&out));

    let png = dir.path().join("photo.csv");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H']).expect("write");
    let out = wh.ingest(&[], "communities", &png, &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("(binary_file)"), "{}", stderr(&out));

    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, b"community_code,community_name\n141021100001,\xff\xfe\xfd\n").expect("write");
    let out = wh.ingest(&[], "communities", &garbage, &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("(unknown_encoding)"), "{}", stderr(&out));

    let long = dir.path().join("long.csv");
    let essay = "长".repeat(5_000);
    let text = format!(
        "community_code,community_name,county_code,county_name\n141021100001,{essay},141021,曲沃县\n141021100002,华杏社区,141021,曲沃县\n"
    );
    std::fs::write(&long, text).expect("write");
    let out =
        wh.ingest(&[], "communities", &long, &["--rejects-out", dir.path().join("r.csv").to_str().expect("utf8")]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("第2行 列“community_name”(community_name)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("内容超过 4000 字 (field_too_long)"), "{}", stderr(&out));
    assert!(stderr(&out).len() < 2_000, "the long value is shortened in the message");

    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "社区代码,社区名称\n141021100001,霞寨社区\n").expect("write");
    let out = wh.ingest(&[], "communities", &missing, &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("缺少社区表的必需列：县区代码(county_code)、县区名称(county_name)"),
        "{}",
        stderr(&out)
    );

    let out = wh.run(&["ingest", "votes", communities.to_str().expect("utf8")]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("未知的表“votes”"));
    assert_eq!(wh.rows("communities"), 0);
}

#[test]
fn every_date_form_and_alias_is_read() {
    let wh = Wh::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let c = dir.path().join("c.csv");
    std::fs::write(
        &c,
        " 区划代码 ,社区,县区代码,县区,街道,户数,人口,党员数\n141021100001,霞寨社区,141021,曲沃县,,12.0,,\n",
    )
    .expect("write");
    assert_eq!(code(&wh.ingest(&[], "社区", &c, &[])), 0);
    let s = dir.path().join("s.csv");
    let text = "社区代码,会议编号,会议日期,会议类型,说事形式,参会人数\n\
        141021100001,S1,2025-03-15,定期,议事厅,10\n\
        141021100001,S2,2025/3/30,regular,hall,10\n\
        141021100001,S3,2025.4.15,急事急说,online,10\n\
        141021100001,S4,2025年4月30日,特事特说,线上,10\n";
    std::fs::write(&s, text).expect("write");
    let out = wh.ingest(&[], "会议", &s, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(wh.rows("sessions"), 4);
}

#[test]
fn upsert_moves_statuses_on_and_the_same_file_twice_changes_nothing() {
    let wh = Wh::new();
    let canonical = samples().join("canonical");
    for table in ["communities", "cadres", "sessions", "topics"] {
        assert_eq!(code(&wh.ingest(&[], table, &canonical.join(format!("{table}.csv")), &[])), 0);
    }
    assert_eq!(wh.rows("topics"), 411);
    let v1 = wh.version("topics");

    // Same file again: recognised by its hash, no new version.
    let out = wh.ingest(&[], "topics", &canonical.join("topics.csv"), &[]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("该文件已导入过"), "{}", stdout(&out));
    assert_eq!(wh.version("topics"), v1);

    // A month later: T20250002 is resolved now, and one topic is new.
    let text = std::fs::read_to_string(canonical.join("topics.csv")).expect("topics");
    let old = "141021100001,T20250002,S20250130,菜市场适龄儿童入学政策,policy,home_visit,2025-01-19,C04,self,,2025-02-02,in_progress,,,";
    assert!(text.contains(old), "sample row changed");
    let moved = old.replace("in_progress,,,", "resolved,2026-01-05,2026-01-06,board");
    let new_row = "141021100001,T20260001,,新议题,other,walk_in,2026-01-03,C01,self,,2026-01-20,pending,,,\n";
    let later = format!("{}{new_row}", text.replace(old, &moved));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("topics-2026-01.csv");
    std::fs::write(&path, later).expect("write");
    let out = wh.ingest(&[], "topics", &path, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("新增 1，更新 1，不变 410"), "{}", stdout(&out));
    assert_eq!(wh.rows("topics"), 412, "nothing duplicated");
    assert_eq!(wh.version("topics"), v1 + 1);

    let batches: serde_json::Value =
        serde_json::from_slice(&wh.run(&["--user", "clerk", "batches", "--json"]).stdout).expect("json");
    let last = batches.as_array().expect("array").iter().rev().find(|b| b["table"] == "topics").expect("batch").clone();
    assert_eq!(last["file_name"], "topics-2026-01.csv");
    assert_eq!(last["rows_accepted"], 412);
    assert_eq!(last["version"], v1 + 1);
    assert_eq!(last["file_sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn a_new_county_is_appended_beside_the_others_and_later_exports_still_upsert() {
    let wh = Wh::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, rows: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("community_code,cadre_id,cadre_name,role\n{}\n", rows.join("\n")))
            .expect("write");
        path
    };
    let a = file("a.csv", &["141021100001,C01,张三,secretary", "141021100001,C02,李四,member"]);
    let b = file("b.csv", &["141022100001,C01,王五,secretary", "141022100002,C01,赵六,member"]);
    assert_eq!(code(&wh.ingest(&[], "cadres", &a, &[])), 0);
    // County 141022 has no row yet: its rows are added without a merge, A's stay.
    let out = wh.ingest(&[], "cadres", &b, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("新增 2，更新 0，不变 0"), "{}", stdout(&out));
    assert_eq!((wh.rows("cadres"), wh.version("cadres")), (4, 2));
    // A later export of both counties updates the known keys and adds the new one.
    let later = file(
        "later.csv",
        &["141021100001,C01,张三,director", "141022100001,C01,王五,secretary", "141022100001,C02,钱七,member"],
    );
    let out = wh.ingest(&[], "cadres", &later, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("新增 1，更新 1，不变 1"), "{}", stdout(&out));
    assert_eq!(wh.rows("cadres"), 5, "nothing duplicated");
    let out = wh.run(&["sql", "SELECT role FROM cadres WHERE community_code = '141021100001' AND cadre_id = 'C01'"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("director"), "{}", String::from_utf8_lossy(&out.stdout));
}
