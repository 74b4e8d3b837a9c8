//! The scoring scheme: weights, thresholds, the 优秀 quota and the minimum topic count
//! that turn the contract's figures into cadre and community scores and grades.
//!
//! The contract fixes the defaults and lets a county change them in a config file, so a
//! scheme is a plain TOML file in which every field is optional: a partial file overrides
//! only what it names. Every report carries the scheme's name and [`Scheme::hash`], so a
//! year-end result can be reproduced with the same scheme later.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A scoring scheme. `Scheme::default()` is the data contract's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scheme {
    /// Shown in every report, e.g. "某某县2025年度方案".
    pub name: String,
    /// Weights of the cadre score (points for a component at 1, or at 100 for the index).
    pub cadre: CadreWeights,
    /// Weights of the community score.
    pub community: CommunityWeights,
    /// Grade thresholds, the 优秀 quota and the minimum topic count.
    pub grades: Grades,
    /// Whether a 基本满意 verdict counts as satisfied in satisfaction_rate (contract: yes).
    pub basically_satisfied_counts_as_satisfied: bool,
    /// Regular (定期) sessions that give a session_rate of 1.
    pub sessions: SessionTargets,
    /// The red and black lists (红榜、黑榜) of communities.
    pub lists: Lists,
}

/// `score = completion_rate·w + on_time_rate·w + satisfaction_index·w/100 + rectification_rate·w`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CadreWeights {
    pub completion_rate: f64,
    pub on_time_rate: f64,
    pub satisfaction_index: f64,
    pub rectification_rate: f64,
}

/// The community score adds publicity_rate and session_rate to the cadre's components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommunityWeights {
    pub completion_rate: f64,
    pub on_time_rate: f64,
    pub satisfaction_index: f64,
    pub rectification_rate: f64,
    pub publicity_rate: f64,
    pub session_rate: f64,
}

/// Grade thresholds of the cadre assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grades {
    /// 优秀 needs at least this score (and a seat of the quota).
    pub excellent_score: f64,
    /// Share of a county's rated cadres that may be 优秀, in (0, 1].
    pub excellent_quota: f64,
    /// 称职 from this score.
    pub competent_score: f64,
    /// 基本称职 from this score; below it 不称职.
    pub basically_competent_score: f64,
    /// A cadre with fewer topics in the year is 未评定 (not rated).
    pub min_topics: u32,
}

/// How many communities the red and black lists hold. A community with fewer topics in
/// the year than `grades.min_topics` is on neither (样本不足，不参与排名).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lists {
    /// Places on each list at most, before ties: N = min(size, ⌊ranked communities ÷ 3⌋).
    pub size: u32,
}

impl Default for Lists {
    fn default() -> Lists {
        Lists { size: 5 }
    }
}

/// Regular sessions per period that count as a full session_rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionTargets {
    /// The 15th and the 30th of three months.
    pub regular_per_quarter: u32,
    pub regular_per_year: u32,
}

impl Default for Scheme {
    fn default() -> Scheme {
        Scheme {
            name: "数据契约默认方案".to_string(),
            cadre: CadreWeights::default(),
            community: CommunityWeights::default(),
            grades: Grades::default(),
            basically_satisfied_counts_as_satisfied: true,
            sessions: SessionTargets::default(),
            lists: Lists::default(),
        }
    }
}

impl Default for CadreWeights {
    fn default() -> CadreWeights {
        CadreWeights { completion_rate: 30.0, on_time_rate: 20.0, satisfaction_index: 35.0, rectification_rate: 15.0 }
    }
}

impl Default for CommunityWeights {
    fn default() -> CommunityWeights {
        CommunityWeights {
            completion_rate: 25.0,
            on_time_rate: 15.0,
            satisfaction_index: 35.0,
            rectification_rate: 10.0,
            publicity_rate: 10.0,
            session_rate: 5.0,
        }
    }
}

impl Default for Grades {
    fn default() -> Grades {
        Grades {
            excellent_score: 90.0,
            excellent_quota: 0.2,
            competent_score: 70.0,
            basically_competent_score: 60.0,
            min_topics: 3,
        }
    }
}

impl Default for SessionTargets {
    fn default() -> SessionTargets {
        SessionTargets { regular_per_quarter: 6, regular_per_year: 24 }
    }
}

/// Why a scheme file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("读取评分方案文件 {path} 失败：{source} (scheme_io)")]
    Io { path: String, source: std::io::Error },

    #[error("评分方案 {path} 格式错误：{message} (scheme_syntax)")]
    Syntax { path: String, message: String },

    #[error("评分方案 {path} 的取值无效：{} (scheme_invalid)", .problems.join("；"))]
    Invalid { path: String, problems: Vec<String> },
}

impl Scheme {
    /// A commented scheme file equal to the default; copy it and change what differs.
    pub const EXAMPLE_TOML: &'static str = r#"# 评分方案（scoring scheme）。每一项都可省略：省略的项取数据契约的默认值。
name = "数据契约默认方案"
# 基本满意是否计入满意率
basically_satisfied_counts_as_satisfied = true

# 干部得分 = 办结率×30 + 按时办结率×20 + 满意度指数×35/100 + 整改率×15
[cadre]
completion_rate = 30
on_time_rate = 20
satisfaction_index = 35
rectification_rate = 15

# 社区得分 = 办结率×25 + 按时办结率×15 + 满意度指数×35/100 + 整改率×10 + 公示率×10 + 会议率×5
[community]
completion_rate = 25
on_time_rate = 15
satisfaction_index = 35
rectification_rate = 10
publicity_rate = 10
session_rate = 5

[grades]
excellent_score = 90            # 优秀：得分不低于此值，且在名额内
excellent_quota = 0.2           # 优秀名额 = max(1, floor(0.2 × 县内参评干部数))
competent_score = 70            # 称职
basically_competent_score = 60  # 基本称职；以下为不称职
min_topics = 3                  # 年度议题少于此数：未评定

# 定期会议目标数（会议率 = min(1, 定期会议数 ÷ 目标)）
[sessions]
regular_per_quarter = 6
regular_per_year = 24

# 红榜、黑榜：县内得分前、后 N 名，N = min(size, 参与排名的社区数 ÷ 3 取整)，并列均入；
# 年度议题少于 grades.min_topics 的社区样本不足，不参与排名
[lists]
size = 5
"#;

    /// Reads and checks a scheme file.
    pub fn from_toml_file(path: &Path) -> Result<Scheme, SchemeError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SchemeError::Io { path: shown.clone(), source })?;
        Scheme::from_toml_str(&text, &shown)
    }

    /// Parses and checks scheme text; `origin` names it in error messages (a file name or
    /// "上传的方案").
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Scheme, SchemeError> {
        let scheme: Scheme = toml::from_str(text)
            .map_err(|e| SchemeError::Syntax { path: origin.to_string(), message: syntax_message(text, &e) })?;
        let problems = scheme.problems();
        if problems.is_empty() { Ok(scheme) } else { Err(SchemeError::Invalid { path: origin.to_string(), problems }) }
    }

    /// Hex SHA-256 of the scheme's canonical JSON (fields in declaration order), so
    /// whitespace, comments and field order in the file do not change it.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&canonical))
    }

    /// Everything wrong with the values, in Chinese; empty when the scheme is usable.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push("name（方案名称）不能为空".to_string());
        }
        let c = &self.cadre;
        let m = &self.community;
        let weights = [
            ("cadre.completion_rate", c.completion_rate),
            ("cadre.on_time_rate", c.on_time_rate),
            ("cadre.satisfaction_index", c.satisfaction_index),
            ("cadre.rectification_rate", c.rectification_rate),
            ("community.completion_rate", m.completion_rate),
            ("community.on_time_rate", m.on_time_rate),
            ("community.satisfaction_index", m.satisfaction_index),
            ("community.rectification_rate", m.rectification_rate),
            ("community.publicity_rate", m.publicity_rate),
            ("community.session_rate", m.session_rate),
        ];
        for (key, w) in weights {
            if !w.is_finite() || w < 0.0 {
                out.push(format!("权重 {key} = {w} 无效，应为不小于 0 的数"));
            }
        }
        out.extend(self.grades.problems());
        let s = &self.sessions;
        if s.regular_per_quarter == 0 || s.regular_per_year == 0 {
            out.push("sessions.regular_per_quarter 和 sessions.regular_per_year 应为正整数".to_string());
        }
        if self.lists.size > 100 {
            out.push(format!("lists.size = {} 过大，应为 0–100（0 为不设红黑榜）", self.lists.size));
        }
        out
    }
}

impl Grades {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let q = self.excellent_quota;
        if !(q.is_finite() && q > 0.0 && q <= 1.0) {
            out.push(format!("grades.excellent_quota = {q} 无效，应大于 0 且不大于 1"));
        }
        let scores = [
            ("grades.excellent_score", self.excellent_score),
            ("grades.competent_score", self.competent_score),
            ("grades.basically_competent_score", self.basically_competent_score),
        ];
        for (key, v) in scores {
            if !v.is_finite() || v < 0.0 {
                out.push(format!("{key} = {v} 无效，应为不小于 0 的数"));
            }
        }
        if !(self.excellent_score >= self.competent_score && self.competent_score >= self.basically_competent_score) {
            out.push(format!(
                "等级分数线应满足 优秀 ≥ 称职 ≥ 基本称职（现为 {} / {} / {}）",
                self.excellent_score, self.competent_score, self.basically_competent_score
            ));
        }
        if self.min_topics == 0 {
            out.push("grades.min_topics 应至少为 1（没有议题的干部无从评定）".to_string());
        }
        out
    }
}

/// A TOML error in Chinese: "第 3 行：没有字段“completion_rat”（可用：…）", naming the line
/// and, where toml names it, the field.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    let line = e.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = e.message();
    let chinese = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let expected =
            expected.trim_start_matches(", expected one of ").trim_start_matches(", expected ").replace('`', "");
        format!("没有字段“{field}”（这一节可用的字段：{}）", expected.replace(", ", "、"))
    } else if message.starts_with("invalid type") {
        format!("取值类型不对（{message}）：权重和分数线应为数字，name 应为带引号的文字")
    } else {
        message.to_string()
    };
    let snippet = line.and_then(|n| text.lines().nth(n - 1)).map(|l| format!("（“{}”）", l.trim())).unwrap_or_default();
    match line {
        Some(n) => format!("第 {n} 行{snippet}：{chinese}"),
        None => chinese,
    }
}

/// A scheme as a report used it: for which county (none: every county the report
/// covers), its name, its catalog version (none: the contract's default or a file) and
/// its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeUse {
    pub county_code: Option<String>,
    pub name: String,
    pub version: Option<i64>,
    pub hash: String,
}

impl SchemeUse {
    /// "甲县方案（第2版，1a2b3c4d5e6f）" or "数据契约默认方案（默认，1a2b3c4d5e6f）".
    pub fn text(&self) -> String {
        let version = self.version.map_or_else(|| "默认".to_string(), |v| format!("第{v}版"));
        format!("{}（{version}，{}）", self.name, self.hash.get(..12).unwrap_or(&self.hash))
    }
}

/// A scheme and its catalog version (`None`: not from the catalog).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedScheme {
    pub scheme: Scheme,
    pub version: Option<i64>,
}

impl VersionedScheme {
    pub fn unversioned(scheme: Scheme) -> VersionedScheme {
        VersionedScheme { scheme, version: None }
    }

    pub fn used_for(&self, county_code: Option<&str>) -> SchemeUse {
        SchemeUse {
            county_code: county_code.map(str::to_string),
            name: self.scheme.name.clone(),
            version: self.version,
            hash: self.scheme.hash(),
        }
    }
}

impl Default for VersionedScheme {
    fn default() -> VersionedScheme {
        VersionedScheme::unversioned(Scheme::default())
    }
}

/// The scheme each county is assessed with: its own where it has one in force, else
/// `fallback` (the contract's default, or a file given to the CLI).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountySchemes {
    pub fallback: VersionedScheme,
    /// County code → its scheme in force for the period.
    pub counties: BTreeMap<String, VersionedScheme>,
}

impl CountySchemes {
    /// Every county with `scheme`.
    pub fn one(scheme: VersionedScheme) -> CountySchemes {
        CountySchemes { fallback: scheme, counties: BTreeMap::new() }
    }

    /// The scheme of `county_code`.
    pub fn of(&self, county_code: &str) -> &VersionedScheme {
        self.counties.get(county_code).unwrap_or(&self.fallback)
    }

    /// A key for caches: every scheme's hash and version, by county.
    pub fn key(&self) -> String {
        let mut key = format!("*={}@{:?}", self.fallback.scheme.hash(), self.fallback.version);
        for (county, s) in &self.counties {
            key.push_str(&format!(";{county}={}@{:?}", s.scheme.hash(), s.version));
        }
        key
    }
}

/// One field where a scheme differs from another (the default): its dotted key, both
/// values as TOML shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// 字段, e.g. `grades.excellent_score`.
    pub field: String,
    /// 默认值.
    pub default: String,
    /// 本县值.
    pub county: String,
}

impl Scheme {
    /// Field by field, where `self` differs from `base` (the contract's default), sorted by
    /// field (serde_json's map order depends on a feature another crate may turn on).
    pub fn diff(&self, base: &Scheme) -> Vec<FieldDiff> {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        flatten("", &serde_json::to_value(self).unwrap_or_default(), &mut ours);
        flatten("", &serde_json::to_value(base).unwrap_or_default(), &mut theirs);
        let base: BTreeMap<String, String> = theirs.into_iter().collect();
        let mut diff: Vec<FieldDiff> = ours
            .into_iter()
            .filter_map(|(field, value)| {
                let default = base.get(&field).cloned().unwrap_or_default();
                (default != value).then_some(FieldDiff { field, default, county: value })
            })
            .collect();
        diff.sort_by(|a, b| a.field.cmp(&b.field));
        diff
    }
}

/// `{"grades": {"min_topics": 3}}` → `("grades.min_topics", "3")`, in order.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_the_default() {
        let parsed = Scheme::from_toml_str(Scheme::EXAMPLE_TOML, "example").expect("example parses");
        assert_eq!(parsed, Scheme::default());
        assert_eq!(parsed.hash(), Scheme::default().hash());
    }

    #[test]
    fn partial_file_overrides_only_what_it_names() {
        let s = Scheme::from_toml_str("name = \"甲县\"\n[grades]\nexcellent_quota = 0.3\n", "t").expect("parses");
        assert_eq!(s.grades.excellent_quota, 0.3);
        assert_eq!(s.grades.excellent_score, 90.0);
        assert_eq!(s.cadre, CadreWeights::default());
        assert_ne!(s.hash(), Scheme::default().hash());
    }

    #[test]
    fn hash_ignores_comments_whitespace_and_order() {
        let a = Scheme::from_toml_str("[cadre]\non_time_rate = 25\ncompletion_rate = 25\n", "a").expect("a");
        let b = Scheme::from_toml_str("# note\n[cadre]\ncompletion_rate=25.0   # x\n\non_time_rate = 25\n", "b")
            .expect("b");
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_refused_with_the_file_named() {
        let e = Scheme::from_toml_str("[grades]\nexcellent_quota = 1.5\n[cadre]\non_time_rate = -1\n", "县方案.toml")
            .expect_err("invalid");
        let text = e.to_string();
        assert!(
            text.contains("县方案.toml") && text.contains("excellent_quota") && text.contains("cadre.on_time_rate"),
            "{text}"
        );
        let e = Scheme::from_toml_str("[cadre]\ncompletion_rat = 40\n", "typo.toml").expect_err("unknown key");
        assert!(e.to_string().contains("第 2 行") && e.to_string().contains("没有字段“completion_rat”"), "{e}");
        assert!(Scheme::from_toml_str("[grades]\nexcellent_quota = 0\n", "z").is_err());
        assert!(Scheme::from_toml_str("[grades]\nexcellent_quota = 1\n", "one").is_ok());
    }

    #[test]
    fn diff_lists_the_fields_that_differ() {
        let s = Scheme::from_toml_str("name = \"甲县\"\n[grades]\nexcellent_score = 99.5\n", "t").expect("parses");
        let diff = s.diff(&Scheme::default());
        let fields: Vec<(&str, &str, &str)> =
            diff.iter().map(|d| (d.field.as_str(), d.default.as_str(), d.county.as_str())).collect();
        assert_eq!(fields, [("grades.excellent_score", "90.0", "99.5"), ("name", "数据契约默认方案", "甲县")]);
        assert!(Scheme::default().diff(&Scheme::default()).is_empty());
    }
}
