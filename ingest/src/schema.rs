//! The six ledger tables of the data contract: columns, Chinese aliases, types,
//! enumerations, and the Arrow schema each table is stored with.
//!
//! Everything the contract says about a column lives here once; readers, the validator,
//! the generator and the warehouse all look it up instead of repeating it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// One table of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Communities,
    Cadres,
    Sessions,
    Topics,
    Evaluations,
    Rectifications,
}

impl Table {
    /// All tables, in the order they must be ingested (references point backwards).
    pub const ALL: [Table; 6] =
        [Table::Communities, Table::Cadres, Table::Sessions, Table::Topics, Table::Evaluations, Table::Rectifications];

    /// Canonical English name, also the Delta table's folder name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Communities => "communities",
            Table::Cadres => "cadres",
            Table::Sessions => "sessions",
            Table::Topics => "topics",
            Table::Evaluations => "evaluations",
            Table::Rectifications => "rectifications",
        }
    }

    /// The name a clerk uses.
    pub fn chinese(self) -> &'static str {
        match self {
            Table::Communities => "社区",
            Table::Cadres => "社区干部",
            Table::Sessions => "说事议事会",
            Table::Topics => "议题",
            Table::Evaluations => "评价",
            Table::Rectifications => "整改",
        }
    }

    /// Parses an English or Chinese table name.
    pub fn parse(text: &str) -> Option<Table> {
        let t = text.trim().to_ascii_lowercase();
        Table::ALL.into_iter().find(|table| {
            t == table.name()
                || t == table.chinese()
                || (t.len() > 1 && table.name().strip_suffix('s') == Some(t.as_str()))
                || matches!((table, t.as_str()), (Table::Cadres, "干部") | (Table::Sessions, "会议"))
        })
    }

    /// The column that, with `community_code`, identifies a row.
    pub fn key_column(self) -> &'static str {
        match self {
            Table::Communities => "community_code",
            Table::Cadres => "cadre_id",
            Table::Sessions => "session_id",
            Table::Topics => "topic_id",
            Table::Evaluations => "evaluation_id",
            Table::Rectifications => "rectification_id",
        }
    }

    /// The date column that places a row in a period (contract: "Period").
    pub fn period_column(self) -> Option<&'static str> {
        match self {
            Table::Communities | Table::Cadres => None,
            Table::Sessions => Some("held_on"),
            Table::Topics => Some("raised_on"),
            Table::Evaluations => Some("evaluated_on"),
            Table::Rectifications => Some("opened_on"),
        }
    }

    /// The contract's columns of this table, in the contract's order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Communities => COMMUNITIES,
            Table::Cadres => CADRES,
            Table::Sessions => SESSIONS,
            Table::Topics => TOPICS,
            Table::Evaluations => EVALUATIONS,
            Table::Rectifications => RECTIFICATIONS,
        }
    }

    pub fn column(self, name: &str) -> Option<&'static Column> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// Columns the warehouse derives and stores beside the contract's: the county of every
    /// row (a partition column) and, for dated tables, the year of its period date.
    pub fn derived_columns(self) -> &'static [&'static str] {
        match self {
            Table::Communities => &[],
            Table::Cadres => &["county_code"],
            _ => &["county_code", "year"],
        }
    }

    /// Partition columns of the Delta table (see docs/warehouse.md for why).
    pub fn partition_columns(self) -> &'static [&'static str] {
        match self {
            Table::Communities | Table::Cadres => &["county_code"],
            _ => &["county_code", "year"],
        }
    }

    /// The Arrow schema rows of this table are stored with: the contract's columns, then
    /// the derived ones.
    pub fn arrow_schema(self) -> SchemaRef {
        static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
        let all = SCHEMAS.get_or_init(|| Table::ALL.iter().map(|t| t.build_schema()).collect());
        all[self as usize].clone()
    }

    fn build_schema(self) -> SchemaRef {
        let mut fields: Vec<Field> =
            self.columns().iter().map(|c| Field::new(c.name, c.ty.arrow_type(), !c.required)).collect();
        for derived in self.derived_columns() {
            match *derived {
                "county_code" => fields.push(Field::new("county_code", DataType::Utf8, false)),
                _ => fields.push(Field::new("year", DataType::Int32, false)),
            }
        }
        Arc::new(Schema::new(fields))
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a column holds and how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A string of exactly this many digits.
    Code(usize),
    /// Non-empty, at most 64 characters.
    Id,
    Text,
    /// Integer ≥ 0.
    Int,
    /// Integer 1–5.
    Score,
    Date,
    Bool,
    Enum(&'static Enumeration),
    /// Values separated by `;`, `；`, `、` or `,`; stored joined with `;`.
    List,
    /// Personal data: stored as a keyed hash.
    Respondent,
}

impl ColumnType {
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Int | ColumnType::Score => DataType::Int64,
            ColumnType::Date => DataType::Date32,
            ColumnType::Bool => DataType::Boolean,
            _ => DataType::Utf8,
        }
    }
}

/// A column of the contract.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    /// Chinese aliases; the first is the one written in Chinese exports.
    pub aliases: &'static [&'static str],
    pub ty: ColumnType,
    pub required: bool,
}

impl Column {
    /// The header written in Chinese exports and error messages.
    pub fn chinese(&self) -> &'static str {
        self.aliases.first().copied().unwrap_or(self.name)
    }

    /// The column's enumeration, if it holds one.
    pub fn enumeration(&self) -> Option<&'static Enumeration> {
        match self.ty {
            ColumnType::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// A stored value as a clerk reads it: an enumeration's token as its Chinese value,
    /// anything else as it is.
    pub fn label<'a>(&self, value: &'a str) -> &'a str {
        self.enumeration().and_then(|e| e.chinese(value)).unwrap_or(value)
    }

    /// Whether a file's header names this column (canonical name or alias, case and
    /// surrounding spaces ignored). Offices' headers also carry marks and notes, ignored
    /// too: a required mark (`*社区代码`, `社区代码＊`), a note in brackets at the end
    /// (`办结日期（已办结必填）`, `提出日期(yyyy-mm-dd)`) and spaces or line breaks inside
    /// (`议题\n名称`).
    pub fn matches_header(&self, header: &str) -> bool {
        let h = header.trim().trim_matches('\u{feff}').trim();
        if h.eq_ignore_ascii_case(self.name) || self.aliases.contains(&h) {
            return true;
        }
        let bare = bare_header(h);
        bare.eq_ignore_ascii_case(self.name) || self.aliases.contains(&bare.as_str())
    }
}

/// A header without required marks, a trailing bracketed note and inner white space.
fn bare_header(header: &str) -> String {
    let marks: &[char] = &['*', '＊', '※'];
    let mut h = header.trim().trim_matches(marks).trim();
    if let Some(open) = h.rfind(['(', '（']).filter(|_| h.ends_with([')', '）'])) {
        h = h[..open].trim().trim_matches(marks);
    }
    h.chars().filter(|c| !c.is_whitespace()).collect()
}

/// An enumeration: Chinese values and their English tokens.
#[derive(Debug, PartialEq, Eq)]
pub struct Enumeration {
    pub name: &'static str,
    /// `(chinese, token)` pairs.
    pub values: &'static [(&'static str, &'static str)],
}

impl Enumeration {
    /// The English token for a Chinese value or a token (case-insensitive).
    pub fn token(&self, text: &str) -> Option<&'static str> {
        let t = crate::values::trim(text);
        self.values.iter().find(|(zh, en)| *zh == t || en.eq_ignore_ascii_case(t)).map(|(_, en)| *en)
    }

    /// The Chinese value of a token.
    pub fn chinese(&self, token: &str) -> Option<&'static str> {
        self.values.iter().find(|(_, en)| *en == token).map(|(zh, _)| *zh)
    }

    /// "书记 secretary、副书记 deputy_secretary、…" for error messages.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.values.iter().map(|(zh, en)| format!("{zh} {en}")).collect();
        parts.join("、")
    }
}

/// Every enumeration of the contract's tables, each once, in table and column order.
pub fn enumerations() -> Vec<&'static Enumeration> {
    let mut out: Vec<&'static Enumeration> = Vec::new();
    for e in Table::ALL.iter().flat_map(|t| t.columns()).filter_map(Column::enumeration) {
        if !out.iter().any(|seen| std::ptr::eq(*seen, e)) {
            out.push(e);
        }
    }
    out
}

macro_rules! enumeration {
    ($ident:ident, $name:literal, [$(($zh:literal, $en:literal)),+ $(,)?]) => {
        pub static $ident: Enumeration = Enumeration { name: $name, values: &[$(($zh, $en)),+] };
    };
}

enumeration!(
    ROLE,
    "role",
    [
        ("书记", "secretary"),
        ("副书记", "deputy_secretary"),
        ("主任", "director"),
        ("委员", "member"),
        ("网格长", "grid_leader"),
        ("网格员", "grid_worker"),
        ("社工", "social_worker")
    ]
);
enumeration!(
    SESSION_KIND,
    "kind",
    [("定期", "regular"), ("不定期", "irregular"), ("急事急说", "urgent"), ("特事特说", "special")]
);
enumeration!(
    SESSION_FORM,
    "form",
    [
        ("议事厅", "hall"),
        ("上门", "door_to_door"),
        ("现场", "on_site"),
        ("警民", "police_resident"),
        ("乡贤", "elders"),
        ("线上", "online")
    ]
);
enumeration!(
    CATEGORY,
    "category",
    [
        ("基础设施", "infrastructure"),
        ("环境卫生", "sanitation"),
        ("物业管理", "property"),
        ("治安消防", "safety"),
        ("就业社保", "employment"),
        ("养老托育", "care"),
        ("邻里纠纷", "disputes"),
        ("政策咨询", "policy"),
        ("其他", "other")
    ]
);
enumeration!(
    CHANNEL,
    "channel",
    [
        ("入户走访", "home_visit"),
        ("群众来访", "walk_in"),
        ("微信留言", "wechat"),
        ("热线电话", "hotline"),
        ("上级反馈", "referral"),
        ("网格上报", "grid"),
        ("物业反映", "property"),
        ("调研征集", "survey")
    ]
);
enumeration!(HANDLING_MODE, "handling_mode", [("社区自办", "self"), ("全程代办", "proxy"), ("部门联办", "joint")]);
enumeration!(
    STATUS,
    "status",
    [("待议", "pending"), ("办理中", "in_progress"), ("已办结", "resolved"), ("已解释", "explained")]
);
enumeration!(
    PUBLICITY_CHANNEL,
    "publicity_channel",
    [("公示栏", "board"), ("公众号", "wechat_account"), ("居民群", "group_chat")]
);
enumeration!(
    VERDICT,
    "verdict",
    [("满意", "satisfied"), ("基本满意", "basically_satisfied"), ("不满意", "dissatisfied")]
);

const fn col(name: &'static str, aliases: &'static [&'static str], ty: ColumnType, required: bool) -> Column {
    Column { name, aliases, ty, required }
}

use ColumnType as T;

const COMMUNITY_CODE: Column = col("community_code", &["社区代码", "区划代码"], T::Code(12), true);

static COMMUNITIES: &[Column] = &[
    COMMUNITY_CODE,
    col("community_name", &["社区名称", "社区"], T::Text, true),
    col("county_code", &["县区代码"], T::Code(6), true),
    col("county_name", &["县区名称", "县区"], T::Text, true),
    col("town_name", &["乡镇街道", "街道"], T::Text, false),
    col("households", &["户数"], T::Int, false),
    col("residents", &["常住人口", "人口"], T::Int, false),
    col("party_members", &["党员数"], T::Int, false),
];

static CADRES: &[Column] = &[
    col("community_code", &["社区代码"], T::Code(12), true),
    col("cadre_id", &["干部编号"], T::Id, true),
    col("cadre_name", &["姓名"], T::Text, true),
    col("role", &["职务"], T::Enum(&ROLE), true),
    col("party_member", &["是否党员"], T::Bool, false),
];

static SESSIONS: &[Column] = &[
    col("community_code", &["社区代码"], T::Code(12), true),
    col("session_id", &["会议编号"], T::Id, true),
    col("held_on", &["会议日期"], T::Date, true),
    col("kind", &["会议类型"], T::Enum(&SESSION_KIND), true),
    col("form", &["说事形式"], T::Enum(&SESSION_FORM), true),
    col("attendees", &["参会人数"], T::Int, true),
    col("resident_reps", &["居民代表人数"], T::Int, false),
    col("party_reps", &["党员代表人数"], T::Int, false),
    col("units", &["联动单位"], T::List, false),
];

static TOPICS: &[Column] = &[
    col("community_code", &["社区代码"], T::Code(12), true),
    col("topic_id", &["议题编号"], T::Id, true),
    col("session_id", &["会议编号"], T::Id, false),
    col("title", &["议题名称", "议题"], T::Text, true),
    col("category", &["议题类别"], T::Enum(&CATEGORY), true),
    col("channel", &["来源渠道"], T::Enum(&CHANNEL), true),
    col("raised_on", &["提出日期"], T::Date, true),
    col("lead_cadre_id", &["责任人编号"], T::Id, true),
    col("handling_mode", &["办理方式"], T::Enum(&HANDLING_MODE), true),
    col("units", &["联办单位"], T::List, false),
    col("deadline", &["办理时限"], T::Date, true),
    col("status", &["办理状态"], T::Enum(&STATUS), true),
    col("closed_on", &["办结日期"], T::Date, false),
    col("publicized_on", &["公示日期"], T::Date, false),
    col("publicity_channel", &["公示渠道"], T::Enum(&PUBLICITY_CHANNEL), false),
];

static EVALUATIONS: &[Column] = &[
    col("community_code", &["社区代码"], T::Code(12), true),
    col("evaluation_id", &["评价编号"], T::Id, true),
    col("topic_id", &["议题编号"], T::Id, true),
    col("evaluated_on", &["评价日期"], T::Date, true),
    col("respondent", &["评价人"], T::Respondent, true),
    col("attitude", &["态度"], T::Score, true),
    col("efficiency", &["效率"], T::Score, true),
    col("result", &["结果"], T::Score, true),
    col("effect", &["效果"], T::Score, true),
    col("verdict", &["总体评价"], T::Enum(&VERDICT), true),
    col("comment", &["意见建议"], T::Text, false),
];

static RECTIFICATIONS: &[Column] = &[
    col("community_code", &["社区代码"], T::Code(12), true),
    col("rectification_id", &["整改编号"], T::Id, true),
    col("topic_id", &["议题编号"], T::Id, true),
    col("opened_on", &["整改开始日期"], T::Date, true),
    col("deadline", &["整改时限"], T::Date, true),
    col("closed_on", &["整改完成日期"], T::Date, false),
    col("outcome", &["整改结果"], T::Text, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_in_both_languages() {
        assert_eq!(Table::parse("Topics"), Some(Table::Topics));
        assert_eq!(Table::parse("议题"), Some(Table::Topics));
        assert_eq!(Table::parse("干部"), Some(Table::Cadres));
        assert_eq!(Table::parse("evaluation"), Some(Table::Evaluations));
        assert_eq!(Table::parse("votes"), None);
    }

    #[test]
    fn headers_match_name_or_alias_ignoring_case_and_spaces() {
        let c = Table::Communities.column("community_code").expect("column");
        assert!(c.matches_header("  Community_Code "));
        assert!(c.matches_header("区划代码 "));
        assert!(c.matches_header("\u{feff}社区代码"));
        assert!(!c.matches_header("社区"));
        for marked in
            ["*社区代码", "社区代码＊", "社区代码（12位）", "社区\n代码", " ※ 区划 代码 (必填) ", "community_code*"]
        {
            assert!(c.matches_header(marked), "{marked}");
        }
        for other in ["社区代码说明", "（社区代码）", "社区代码号", "*"] {
            assert!(!c.matches_header(other), "{other}");
        }
    }

    #[test]
    fn enumerations_accept_chinese_or_token() {
        assert_eq!(VERDICT.token("基本满意"), Some("basically_satisfied"));
        assert_eq!(VERDICT.token(" Satisfied "), Some("satisfied"));
        assert_eq!(VERDICT.token("非常满意"), None);
        assert_eq!(STATUS.chinese("explained"), Some("已解释"));
    }

    #[test]
    fn every_enumeration_is_listed_once_and_labels_its_tokens() {
        let all = enumerations();
        assert_eq!(
            all.len(),
            9,
            "role, kind, form, category, channel, handling_mode, status, publicity_channel, verdict"
        );
        assert!(all.iter().any(|e| std::ptr::eq(*e, &CHANNEL)));
        let channel = Table::Topics.column("channel").expect("column");
        assert_eq!(channel.label("walk_in"), "群众来访");
        assert_eq!(channel.label("电话"), "电话");
        assert_eq!(Table::Topics.column("title").expect("column").label("walk_in"), "walk_in");
    }

    #[test]
    fn dated_tables_carry_county_and_year() {
        let s = Table::Evaluations.arrow_schema();
        assert_eq!(s.fields().len(), EVALUATIONS.len() + 2);
        assert_eq!(s.field_with_name("year").map(|f| f.data_type().clone()).ok(), Some(DataType::Int32));
        assert!(Table::Communities.arrow_schema().field_with_name("year").is_err());
    }
}
