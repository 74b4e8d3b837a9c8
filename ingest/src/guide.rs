//! What a clerk needs to fill a table by hand: what each column means, an example value,
//! and the forms its values are accepted in. The templates (`dashboards::templates`) and
//! the upload page read it; the column list itself stays in [`crate::schema`].
//!
//! The examples of the six tables belong together: the example cadre is the example
//! topic's lead cadre, the example topic was raised at the example session, and so on, so
//! that the example rows, ingested in the table order, would all be accepted.

use crate::schema::{Column, ColumnType, Table};

/// One column's guidance: its meaning and an example value as a clerk would type it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnGuide {
    pub column: &'static Column,
    pub meaning: &'static str,
    pub example: &'static str,
}

impl ColumnGuide {
    /// The forms a value of this column is accepted in, in Chinese.
    pub fn accepted_forms(&self) -> String {
        accepted_forms(self.column)
    }
}

/// The table order a new county fills in: a row may only refer to rows of earlier tables.
pub fn table_order() -> String {
    let names: Vec<&str> = Table::ALL.iter().map(|t| t.chinese()).collect();
    names.join(" → ")
}

/// What a table holds, in one sentence.
pub fn table_meaning(table: Table) -> &'static str {
    match table {
        Table::Communities => "社区名录：每个社区一行，由县区或平台账号维护，其他各表都要引用这里的社区代码。",
        Table::Cadres => "社区干部：每位干部一行，议题的责任人编号引用这里的干部编号。",
        Table::Sessions => "说事议事会：每次会议一行（每月 15 日、30 日的定期会议及急事急说等）。",
        Table::Topics => "议题：居民说事形成的每个议题一行，含责任人、办理时限、办理状态和公示。",
        Table::Evaluations => "评价：居民对议题办理的每份评价一行（态度、效率、结果、效果各 1–5 分及总体评价）。",
        Table::Rectifications => "整改：总体评价不满意后开启的每项整改一行。",
    }
}

/// The guidance of every column of `table`, in the contract's order.
pub fn columns(table: Table) -> Vec<ColumnGuide> {
    table
        .columns()
        .iter()
        .map(|column| {
            let (meaning, example) = texts(table, column.name);
            ColumnGuide { column, meaning, example }
        })
        .collect()
}

/// The forms a value of `column` is accepted in, in Chinese.
pub fn accepted_forms(column: &Column) -> String {
    match column.ty {
        ColumnType::Code(digits) => format!("{digits} 位数字（单元格设为文本，以免 Excel 改成科学计数法）"),
        ColumnType::Id => "文字或数字，最多 64 个字符，同一社区内不重复".into(),
        ColumnType::Text => "文字".into(),
        ColumnType::Int => "0 或正整数".into(),
        ColumnType::Score => "1 到 5 的整数".into(),
        ColumnType::Date => "日期：2025-03-15、2025/3/15、2025.3.15、2025年3月15日，或 Excel 日期单元格".into(),
        ColumnType::Bool => "是 / 否（也可填 true/false、1/0）".into(),
        ColumnType::Enum(e) => {
            let chinese: Vec<&str> = e.values.iter().map(|(zh, _)| *zh).collect();
            let tokens: Vec<&str> = e.values.iter().map(|(_, en)| *en).collect();
            format!("从下拉列表选择：{}（其他系统导出的文件也可用英文：{}）", chinese.join("、"), tokens.join("、"))
        }
        ColumnType::List => "可填多个，用 ；、、 或 , 分隔".into(),
        ColumnType::Respondent => "评价人的姓名或编号（系统只保存加密后的代号，不保存原文）".into(),
    }
}

/// `(meaning, example)` of a column; the examples of the tables refer to each other.
fn texts(table: Table, column: &str) -> (&'static str, &'static str) {
    let shared = match column {
        "community_code" => Some(("社区的 12 位统计用区划代码，前 6 位是所属县区代码", "141026100001")),
        _ => None,
    };
    let specific = match (table, column) {
        (Table::Communities, "community_name") => ("社区（村）名称", "城关社区"),
        (Table::Communities, "county_code") => ("所属县区的 6 位代码，必须等于社区代码的前 6 位", "141026"),
        (Table::Communities, "county_name") => ("所属县区名称", "安泽县"),
        (Table::Communities, "town_name") => ("所属乡镇（街道）", "府城镇"),
        (Table::Communities, "households") => ("户数", "1260"),
        (Table::Communities, "residents") => ("常住人口", "3580"),
        (Table::Communities, "party_members") => ("党员数", "96"),
        (Table::Cadres, "cadre_id") => ("干部编号，本社区内唯一；议题的责任人编号填这里的编号", "GB001"),
        (Table::Cadres, "cadre_name") => ("干部姓名", "王建国"),
        (Table::Cadres, "role") => ("职务", "书记"),
        (Table::Cadres, "party_member") => ("是否党员", "是"),
        (Table::Sessions, "session_id") => ("会议编号，本社区内唯一；议题的会议编号填这里的编号", "HY2025001"),
        (Table::Sessions, "held_on") => ("会议召开日期", "2025-03-15"),
        (Table::Sessions, "kind") => ("会议类型：每月 15 日、30 日的为定期", "定期"),
        (Table::Sessions, "form") => ("说事形式", "议事厅"),
        (Table::Sessions, "attendees") => ("参会人数", "23"),
        (Table::Sessions, "resident_reps") => ("其中居民代表人数", "12"),
        (Table::Sessions, "party_reps") => ("其中党员代表人数", "6"),
        (Table::Sessions, "units") => ("参加会议的联动单位", "消防救援站；供电所"),
        (Table::Topics, "topic_id") => ("议题编号，本社区内唯一；评价、整改的议题编号填这里的编号", "YT2025001"),
        (Table::Topics, "session_id") => ("议定该议题的会议编号（说事议事会表中的编号），可空", "HY2025001"),
        (Table::Topics, "title") => ("议题名称", "3 号楼单元门禁损坏"),
        (Table::Topics, "category") => ("议题类别", "基础设施"),
        (Table::Topics, "channel") => ("议题的来源渠道", "入户走访"),
        (Table::Topics, "raised_on") => ("居民提出的日期，决定议题属于哪个季度", "2025-03-10"),
        (Table::Topics, "lead_cadre_id") => ("责任人的干部编号（社区干部表中的编号）", "GB001"),
        (Table::Topics, "handling_mode") => ("办理方式", "社区自办"),
        (Table::Topics, "units") => ("联合办理的单位", "物业公司"),
        (Table::Topics, "deadline") => ("办理时限，不早于提出日期", "2025-03-31"),
        (Table::Topics, "status") => ("当前办理状态；已办结、已解释的须填办结日期", "已办结"),
        (Table::Topics, "closed_on") => ("办结日期；状态为已办结或已解释时必填，其他状态不填", "2025-03-25"),
        (Table::Topics, "publicized_on") => ("办理结果公示的日期，可空", "2025-03-28"),
        (Table::Topics, "publicity_channel") => ("公示的渠道，可空", "公示栏"),
        (Table::Evaluations, "evaluation_id") => ("评价编号，本社区内唯一", "PJ2025001"),
        (Table::Evaluations, "topic_id") => ("被评价议题的编号（议题表中的编号）", "YT2025001"),
        (Table::Evaluations, "evaluated_on") => ("评价日期，不早于议题提出日期", "2025-04-02"),
        (Table::Evaluations, "respondent") => ("评价人", "李秀兰"),
        (Table::Evaluations, "attitude") => ("对办理态度的评分", "5"),
        (Table::Evaluations, "efficiency") => ("对办理效率的评分", "4"),
        (Table::Evaluations, "result") => ("对办理结果的评分", "4"),
        (Table::Evaluations, "effect") => ("对办理效果的评分", "5"),
        (Table::Evaluations, "verdict") => ("总体评价；不满意的议题须开启整改", "满意"),
        (Table::Evaluations, "comment") => ("居民的意见建议，可空", "门禁修得及时"),
        (Table::Rectifications, "rectification_id") => ("整改编号，本社区内唯一", "ZG2025001"),
        (Table::Rectifications, "topic_id") => ("整改所针对议题的编号（议题表中的编号）", "YT2025001"),
        (Table::Rectifications, "opened_on") => ("整改开始日期", "2025-04-05"),
        (Table::Rectifications, "deadline") => ("整改时限，不早于开始日期", "2025-04-30"),
        (Table::Rectifications, "closed_on") => ("整改完成日期，未完成的不填", "2025-04-20"),
        (Table::Rectifications, "outcome") => ("整改结果", "已更换门禁并回访"),
        _ => ("", ""),
    };
    shared.unwrap_or(specific)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_meaning_and_an_example() {
        for table in Table::ALL {
            for guide in columns(table) {
                let name = guide.column.name;
                assert!(!guide.meaning.is_empty(), "{table}.{name} has no meaning");
                assert!(!guide.example.is_empty(), "{table}.{name} has no example");
                if let ColumnType::Enum(e) = guide.column.ty {
                    assert!(e.token(guide.example).is_some(), "{table}.{name}: example not in the enumeration");
                }
                if guide.column.ty == ColumnType::Date {
                    assert!(crate::values::parse_date(guide.example).is_some(), "{table}.{name}");
                }
            }
        }
    }

    #[test]
    fn forms_name_the_chinese_labels_first() {
        let status = Table::Topics.column("status").expect("status");
        let forms = accepted_forms(status);
        assert!(forms.starts_with("从下拉列表选择：待议、办理中、已办结、已解释"), "{forms}");
        assert_eq!(table_order(), "社区 → 社区干部 → 说事议事会 → 议题 → 评价 → 整改");
    }
}
