//! Every validation rule of the contract, each with the exact message a clerk reads.

use std::path::Path;

use ingest::{ReadOptions, References, Scope, Table, read_ledger_bytes};

const C: &str = "141021100001";

fn refs() -> References {
    let mut r = References::default();
    r.add_cadre(C, "C01");
    r.add_session(C, "S1");
    // 2025-03-10 as Date32.
    let raised = ingest::values::date32(chrono::NaiveDate::from_ymd_opt(2025, 3, 10).expect("date"));
    r.add_topic(C, "T1", raised);
    r
}

/// The messages of every error in a one-table CSV.
fn errors(table: Table, csv: &str, scope: &Scope) -> Vec<String> {
    let references = refs();
    let options = ReadOptions {
        scope,
        references: &references,
        respondent_secret: b"k",
        sheet: None,
        header_row: None,
        max_file_bytes: 16 << 20,
        progress: None,
        sink: None,
        strict: true,
    };
    let file = read_ledger_bytes(table, Path::new("t.csv"), csv.as_bytes(), &options).expect("readable");
    file.errors().map(|e| e.to_string()).collect()
}

fn one(table: Table, csv: &str) -> String {
    let all = errors(table, csv, &Scope::Platform);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

const TOPIC_HEADER: &str = "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,deadline,status,closed_on,publicized_on";

fn topic(fields: &str) -> String {
    format!("{TOPIC_HEADER}\n{fields}\n")
}

#[test]
fn code_rules() {
    let h = "community_code,community_name,county_code,county_name";
    assert_eq!(
        one(Table::Communities, &format!("{h}\n14102110000,霞寨,141021,曲沃县\n")),
        "第2行 列“community_code”(community_code) 值“14102110000”：社区代码必须是 12 位数字 (bad_code)"
    );
    assert_eq!(
        one(Table::Communities, &format!("{h}\n141021100001,霞寨,140000,曲沃县\n")),
        "第2行 列“county_code”(county_code) 值“140000”：县区代码应为社区代码的前 6 位（141021） (inconsistent_code)"
    );
    assert_eq!(
        one(Table::Communities, &format!("{h}\n141021100001,霞寨,14102,曲沃县\n")),
        "第2行 列“county_code”(county_code) 值“14102”：县区代码必须是 6 位数字 (bad_code)"
    );
    let county = Scope::county("141022").expect("scope");
    assert_eq!(
        errors(Table::Communities, &format!("{h}\n141021100001,霞寨,141021,曲沃县\n"), &county),
        [
            "第2行 列“community_code”(community_code) 值“141021100001”：社区代码不在上传者的范围内（县区账号 141022） (wrong_community_code)"
        ]
    );
}

#[test]
fn value_rules() {
    let h = "社区代码,干部编号,姓名,职务,是否党员";
    assert_eq!(
        one(Table::Cadres, &format!("{h}\n{C},{},张三,书记,是\n", "C".repeat(65))),
        format!("第2行 列“干部编号”(cadre_id) 值“{}”：编号超过 64 个字符 (id_too_long)", "C".repeat(65))
    );
    assert_eq!(
        one(Table::Cadres, &format!("{h}\n{C},C9,张三,书记,也许\n")),
        "第2行 列“是否党员”(party_member) 值“也许”：不是是/否值（可用 是/否、true/false、1/0） (bad_bool)"
    );
    assert_eq!(
        one(Table::Cadres, &format!("{h}\n{C},C9,张三,书记,群众\n")),
        "第2行 列“是否党员”(party_member) 值“群众”：不是是/否值（可用 是/否、true/false、1/0）；是否为：否？ (bad_bool)"
    );
    let s = "community_code,session_id,held_on,kind,form,attendees";
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-30,regular,hall,10\n")),
        "第2行 列“held_on”(held_on) 值“2025-02-30”：不是有效的日历日期（可用 2025-03-15、2025/3/15、2025.3.15、2025年3月15日） (bad_date)"
    );
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-28,regular,hall,-3\n")),
        "第2行 列“attendees”(attendees) 值“-3”：必须是不小于 0 的整数 (negative_int)"
    );
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-28,regular,hall,十\n")),
        "第2行 列“attendees”(attendees) 值“十”：不是整数 (not_an_integer)"
    );
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-28,regular,hall,\n")),
        "第2行 列“attendees”(attendees) 值“”：必填项“参会人数”为空 (missing_required)"
    );
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-28,例会,hall,3\n")),
        "第2行 列“kind”(kind) 值“例会”：不是可选值之一：定期 regular、不定期 irregular、急事急说 urgent、特事特说 special；是否为：定期？ (unknown_enum)"
    );
    // Nothing close: the valid values only, no guess.
    assert_eq!(
        one(Table::Sessions, &format!("{s}\n{C},S2,2025-02-28,座谈,hall,3\n")),
        "第2行 列“kind”(kind) 值“座谈”：不是可选值之一：定期 regular、不定期 irregular、急事急说 urgent、特事特说 special (unknown_enum)"
    );
}

#[test]
fn topic_rules() {
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!("{C},T2,S1,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-01,pending,,"))
        ),
        "第2行 列“deadline”(deadline) 值“2025-03-01”：办理时限早于提出日期 (deadline_before_raised_on)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!("{C},T2,S1,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,resolved,,"))
        ),
        "第2行 列“closed_on”(closed_on) 值“”：办理状态为已办结或已解释时，办结日期必填 (missing_required)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!(
                "{C},T2,S1,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,in_progress,2025-03-12,"
            ))
        ),
        "第2行 列“closed_on”(closed_on) 值“2025-03-12”：办理状态不是已办结或已解释，不应填写办结日期 (closed_on_not_allowed)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!("{C},T2,S1,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,resolved,2025-03-09,"))
        ),
        "第2行 列“closed_on”(closed_on) 值“2025-03-09”：办结日期早于提出日期 (closed_before_raised)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!(
                "{C},T2,S1,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,resolved,2025-03-12,2025-03-01"
            ))
        ),
        "第2行 列“publicized_on”(publicized_on) 值“2025-03-01”：公示日期早于提出日期 (publicized_before_raised)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!("{C},T2,S9,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,pending,,"))
        ),
        "第2行 列“session_id”(session_id) 值“S9”：本社区没有编号为“S9”的会议（请先导入会议） (unknown_reference)"
    );
    assert_eq!(
        one(
            Table::Topics,
            &topic(&format!("{C},T2,,路灯,infrastructure,grid,2025-03-10,C02,self,2025-03-20,pending,,"))
        ),
        "第2行 列“lead_cadre_id”(lead_cadre_id) 值“C02”：本社区没有编号为“C02”的干部（请先导入干部） (unknown_reference)"
    );
    // A cadre of the same id in another community does not count.
    assert_eq!(
        errors(
            Table::Topics,
            &topic("141021100002,T2,,路灯,infrastructure,grid,2025-03-10,C01,self,2025-03-20,pending,,"),
            &Scope::Platform
        )
        .len(),
        1
    );
    let dup = format!(
        "{TOPIC_HEADER}\n{C},T2,,a,other,grid,2025-03-10,C01,self,2025-03-20,pending,,\n{C},T2,,b,other,grid,2025-03-10,C01,self,2025-03-20,pending,,\n"
    );
    assert_eq!(
        one(Table::Topics, &dup),
        "第3行 列“topic_id”(topic_id) 值“T2”：编号在本文件中重复（第2行已出现），每个编号只能有一行 (duplicate_key)"
    );
}

#[test]
fn evaluation_and_rectification_rules() {
    let e = "community_code,evaluation_id,topic_id,evaluated_on,respondent,attitude,efficiency,result,effect,verdict";
    assert_eq!(
        one(Table::Evaluations, &format!("{e}\n{C},E1,T1,2025-03-09,王五,5,5,5,5,满意\n")),
        "第2行 列“evaluated_on”(evaluated_on) 值“2025-03-09”：评价日期早于该议题的提出日期（2025-03-10） (date_before_topic)"
    );
    assert_eq!(
        one(Table::Evaluations, &format!("{e}\n{C},E1,T1,2025-03-19,王五,5,0,5,5,满意\n")),
        "第2行 列“efficiency”(efficiency) 值“0”：评分必须是 1 到 5 的整数 (score_out_of_range)"
    );
    assert_eq!(
        one(Table::Evaluations, &format!("{e}\n{C},E1,T7,2025-03-19,王五,5,5,5,5,满意\n")),
        "第2行 列“topic_id”(topic_id) 值“T7”：本社区没有编号为“T7”的议题（请先导入议题） (unknown_reference)"
    );
    let r = "community_code,rectification_id,topic_id,opened_on,deadline,closed_on";
    assert_eq!(
        one(Table::Rectifications, &format!("{r}\n{C},R1,T1,2025-04-10,2025-04-01,\n")),
        "第2行 列“deadline”(deadline) 值“2025-04-01”：整改时限早于整改开始日期 (deadline_before_opened_on)"
    );
    assert_eq!(
        one(Table::Rectifications, &format!("{r}\n{C},R1,T1,2025-04-10,2025-04-20,2025-04-09\n")),
        "第2行 列“closed_on”(closed_on) 值“2025-04-09”：整改完成日期早于整改开始日期 (closed_before_opened)"
    );
}

#[test]
fn utf8_bom_file_reads_like_plain_utf8() {
    let h = "community_code,community_name,county_code,county_name";
    let plain = format!("{h}\n{C},霞寨,141021,曲沃县\n");
    let with_bom = [&[0xEF, 0xBB, 0xBF][..], plain.as_bytes()].concat();
    let references = References::default();
    let options = ReadOptions {
        scope: &Scope::Platform,
        references: &references,
        respondent_secret: b"k",
        sheet: None,
        header_row: None,
        max_file_bytes: 16 << 20,
        progress: None,
        sink: None,
        strict: true,
    };
    let a = read_ledger_bytes(Table::Communities, Path::new("a.csv"), plain.as_bytes(), &options).expect("plain");
    let b = read_ledger_bytes(Table::Communities, Path::new("b.csv"), &with_bom, &options).expect("bom");
    assert_eq!(a.batches, b.batches);
    assert_eq!(b.encoding, Some(ingest::TextEncoding::Utf8Bom));
    assert_eq!(b.accepted_rows, 1);
}

#[test]
fn duplicates_are_found_across_the_whole_file() {
    // Several megabytes, so the two copies are validated apart, by different chunks; the
    // row numbers of later chunks must still be those of the file.
    let mut csv = String::from("community_code,cadre_id,cadre_name,role\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{C},C{i},张{i},member\n"));
    }
    csv.push_str(&format!("{C},C7,重复,member\n"));
    csv.push_str(&format!("{C},C100000,新,captain\n"));
    let all = errors(Table::Cadres, &csv, &Scope::Platform);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all[0],
        "第100002行 列“cadre_id”(cadre_id) 值“C7”：编号在本文件中重复（第9行已出现），每个编号只能有一行 (duplicate_key)"
    );
    assert!(all[1].starts_with("第100003行 列“role”(role) 值“captain”："), "{}", all[1]);
}
