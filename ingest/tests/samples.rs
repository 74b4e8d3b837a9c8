//! The shared sample ledgers, read in every shape the contract accepts.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use ingest::{LedgerFile, ReadOptions, References, RowErrorKind, Scope, Table, read_ledger};

const COMMUNITY: &str = "141021100001";
const SECRET: &[u8] = b"test-secret";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

fn read(table: Table, path: &Path, scope: &Scope, refs: &References) -> LedgerFile {
    let options = ReadOptions {
        scope,
        references: refs,
        respondent_secret: SECRET,
        sheet: None,
        header_row: None,
        max_file_bytes: ingest::DEFAULT_MAX_FILE_BYTES,
        progress: None,
        sink: None,
        strict: true,
    };
    read_ledger(table, path, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads all six tables of a folder in order, feeding references forward.
fn read_folder(folder: &str, ext: &str, scope: &Scope) -> Vec<LedgerFile> {
    let mut refs = References::default();
    Table::ALL
        .iter()
        .map(|&table| {
            let path = samples().join(folder).join(format!("{}.{ext}", table.name()));
            let file = read(table, &path, scope, &refs);
            refs.absorb(table, &file.batches);
            file
        })
        .collect()
}

fn concat(file: &LedgerFile) -> RecordBatch {
    arrow_select::concat::concat_batches(&file.table.arrow_schema(), &file.batches).expect("concat")
}

fn manifest_rows(table: Table) -> usize {
    let text = std::fs::read_to_string(samples().join("manifest.json")).expect("manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["rows"][table.name()].as_u64().expect("count") as usize
}

#[test]
fn every_shape_reads_to_the_same_rows() {
    let scope = Scope::community(COMMUNITY).expect("scope");
    let county = Scope::county("141021").expect("scope");
    let canonical = read_folder("canonical", "csv", &county);
    for (folder, ext) in [("gb18030", "csv"), ("xlsx", "xlsx")] {
        let mut refs = References::default();
        for (i, &table) in Table::ALL.iter().enumerate() {
            let path = samples().join(folder).join(format!("{}.{ext}", table.name()));
            let scope = if table == Table::Communities { &county } else { &scope };
            let file = read(table, &path, scope, &refs);
            refs.absorb(table, &file.batches);
            assert!(file.rejected.is_empty(), "{folder}/{table}: {:?}", file.rejected.first());
            assert_eq!(file.accepted_rows, manifest_rows(table), "{folder}/{table}");
            // The first community's rows of the canonical file, in the same order.
            let expected = concat(&canonical[i]);
            let got = concat(&file);
            let n = got.num_rows();
            assert_eq!(got, expected.slice(0, n), "{folder}/{table} differs from canonical");
        }
    }
}

#[test]
fn gb18030_file_is_detected_as_such() {
    let scope = Scope::county("141021").expect("scope");
    let file = read(Table::Communities, &samples().join("gb18030/communities.csv"), &scope, &References::default());
    assert_eq!(file.encoding, Some(ingest::TextEncoding::Gb18030));
    assert_eq!(file.accepted_rows, 1);
}

#[test]
fn respondents_never_stored_in_clear() {
    let scope = Scope::Platform;
    let files = read_folder("canonical", "csv", &scope);
    let evaluations = concat(&files[4]);
    let respondent = evaluations.column_by_name("respondent").expect("respondent");
    let respondent = arrow_array::cast::as_string_array(respondent.as_ref());
    let first = respondent.value(0);
    // HMAC-SHA-256 of the name under the installation secret, its first 16 bytes in hex.
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(SECRET).expect("key");
    hmac::Mac::update(&mut mac, "姚超春".as_bytes());
    let digest = hmac::Mac::finalize(mac).into_bytes();
    assert_eq!(first, hex::encode(&digest[..16]));
    let text = std::fs::read_to_string(samples().join("canonical/evaluations.csv")).expect("csv");
    assert!(text.contains("姚超春"), "the sample's first respondent");
    assert!(!respondent.iter().flatten().any(|v| v.contains("姚超春")));
}

#[test]
fn bad_rows_match_the_answer_key() {
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples().join("bad/bad_rows.json")).expect("key"))
            .expect("json");
    let community = Scope::community(COMMUNITY).expect("scope");
    let county = Scope::county("141021").expect("scope");
    let mut refs = References::default();
    for table in Table::ALL {
        let scope = if table == Table::Communities { &county } else { &community };
        let file = read(table, &samples().join(format!("bad/{}.csv", table.name())), scope, &refs);
        refs.absorb(table, &file.batches);
        let expected = key["tables"][table.name()]["bad"].as_array().expect("bad rows");
        let good = key["tables"][table.name()]["good_rows"].as_u64().expect("good") as usize;
        assert_eq!(file.accepted_rows, good, "{table}");
        assert_eq!(file.rejected.len(), expected.len(), "{table}: {:#?}", file.rejected);
        for (bad, got) in expected.iter().zip(&file.rejected) {
            assert_eq!(got.row as u64, bad["line"].as_u64().expect("line"), "{table}");
            let first = &got.errors[0];
            assert_eq!(first.column, bad["column"].as_str().expect("column"), "{table} line {}", got.row);
            assert_eq!(first.value, bad["value"].as_str().expect("value"), "{table} line {}", got.row);
            assert_eq!(first.kind.token(), bad["kind"].as_str().expect("kind"), "{table} line {}", got.row);
        }
    }
}

#[test]
fn error_messages_are_exact() {
    let scope = Scope::community(COMMUNITY).expect("scope");
    let file = read(Table::Cadres, &samples().join("bad/cadres.csv"), &scope, &References::default());
    let messages: Vec<String> = file.errors().map(|e| e.to_string()).collect();
    assert_eq!(
        messages[0],
        "第3行 列“role”(role) 值“队长”：不是可选值之一：书记 secretary、副书记 deputy_secretary、主任 director、委员 member、网格长 grid_leader、网格员 grid_worker、社工 social_worker (unknown_enum)"
    );
    assert_eq!(
        messages[1],
        "第5行 列“party_member”(party_member) 值“也许”：不是是/否值（可用 是/否、true/false、1/0） (bad_bool)"
    );
    assert_eq!(
        messages[2],
        "第8行 列“community_code”(community_code) 值“141022100001”：社区代码不在上传者的范围内（社区账号 141021100001） (wrong_community_code)"
    );
    assert_eq!(messages[3], "第11行 列“cadre_name”(cadre_name) 值“”：必填项“姓名”为空 (missing_required)");
    assert!(messages[4].ends_with("编号超过 64 个字符 (id_too_long)"), "{}", messages[4]);
    assert_eq!(file.rejected[0].errors[0].kind, RowErrorKind::UnknownEnum);
}
