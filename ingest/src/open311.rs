//! 12345 hotline and city-service work orders as topics: Open311 GeoReport v2 service
//! requests (JSON or XML) turned into the rows of a topics file, then read, checked and
//! committed by the ordinary file path (`yishi ingest 议题 工单.json --format open311
//! --mapping 映射.toml`).
//!
//! What a request does not say — its community, the lead cadre, the handling mode, the
//! category of each service code — comes from the mapping file. Status mapping (documented
//! in docs/ingest.md): `open` → 办理中 (in_progress), `closed` → 已办结 (resolved); any
//! other status is passed through unchanged so that the validator rejects the row with its
//! usual message (an unmappable field is a row error, not a silent guess).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// What the mapping file says about the requests of one export.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Mapping {
    /// The community the requests belong to (社区代码).
    pub community_code: String,
    /// The cadre who leads their handling (责任人编号).
    pub lead_cadre_id: String,
    /// 办理方式 for every request (default: 部门联办 joint, as hotline orders are).
    #[serde(default = "joint")]
    pub handling_mode: String,
    /// 来源渠道 (default: 热线电话 hotline; 上级反馈 referral for a city platform's orders).
    #[serde(default = "hotline")]
    pub channel: String,
    /// Days from the request to its deadline when it has no `expected_datetime`.
    #[serde(default = "fifteen")]
    pub deadline_days: u32,
    /// `service_code` → 议题类别 (Chinese label or token).
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    /// The category of a service code not in `categories` (default: 其他 other).
    #[serde(default = "other")]
    pub default_category: String,
}

fn joint() -> String {
    "joint".into()
}
fn hotline() -> String {
    "hotline".into()
}
fn fifteen() -> u32 {
    15
}
fn other() -> String {
    "other".into()
}

/// Why a work-order file could not be turned into topics.
#[derive(Debug, thiserror::Error)]
pub enum Open311Error {
    #[error("映射文件 {path} 有误：{message}")]
    Mapping { path: String, message: String },
    #[error("工单文件不是 Open311 的 JSON 或 XML：{0}")]
    Format(String),
    #[error("工单文件中没有工单（service_requests 为空）")]
    Empty,
}

impl Open311Mapping {
    /// Reads the mapping file (TOML).
    pub fn from_toml(text: &str, path: &str) -> Result<Open311Mapping, Open311Error> {
        toml::from_str(text).map_err(|e| Open311Error::Mapping { path: path.to_string(), message: e.to_string() })
    }
}

/// One request's fields as text (JSON values or XML elements).
type Request = BTreeMap<String, String>;

/// The requests as the CSV of a topics file, header in the contract's names.
pub fn to_topics_csv(bytes: &[u8], mapping: &Open311Mapping) -> Result<Vec<u8>, Open311Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Open311Error::Format(format!("不是 UTF-8 文本：{e}")))?;
    let requests = if text.trim_start().starts_with('<') { from_xml(text)? } else { from_json(text)? };
    if requests.is_empty() {
        return Err(Open311Error::Empty);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "community_code",
        "topic_id",
        "title",
        "category",
        "channel",
        "raised_on",
        "lead_cadre_id",
        "handling_mode",
        "units",
        "deadline",
        "status",
        "closed_on",
    ];
    let failed = |e: csv::Error| Open311Error::Format(e.to_string());
    writer.write_record(header).map_err(failed)?;
    for request in &requests {
        writer.write_record(topic_row(request, mapping)).map_err(failed)?;
    }
    writer.into_inner().map_err(|e| Open311Error::Format(e.to_string()))
}

/// One topic from one request, in the order of the header above.
fn topic_row(r: &Request, m: &Open311Mapping) -> [String; 12] {
    let field = |name: &str| r.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let raised = date_part(&field("requested_datetime"));
    let (status, closed) = match field("status").to_ascii_lowercase().as_str() {
        "open" => ("in_progress".to_string(), String::new()),
        "closed" => ("resolved".to_string(), date_part(&field("updated_datetime"))),
        _ => (field("status"), String::new()),
    };
    let deadline = match date_part(&field("expected_datetime")) {
        d if !d.is_empty() => d,
        _ => plus_days(&raised, m.deadline_days).unwrap_or_default(),
    };
    let title = match (field("description"), field("service_name")) {
        (d, _) if !d.is_empty() => d.chars().take(60).collect(),
        (_, s) => s,
    };
    let category = m.categories.get(&field("service_code")).cloned().unwrap_or_else(|| m.default_category.clone());
    [
        m.community_code.clone(),
        field("service_request_id"),
        title,
        category,
        m.channel.clone(),
        raised,
        m.lead_cadre_id.clone(),
        m.handling_mode.clone(),
        field("agency_responsible"),
        deadline,
        status,
        closed,
    ]
}

/// `2025-03-01T09:30:00+08:00` → `2025-03-01` (the day the request was made where it was
/// made); anything else unchanged, for the validator to judge.
fn date_part(text: &str) -> String {
    match text.get(..10) {
        Some(day) if text.len() >= 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() => day.to_string(),
        _ => text.to_string(),
    }
}

fn plus_days(day: &str, days: u32) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some((d + chrono::Duration::days(i64::from(days))).format("%Y-%m-%d").to_string())
}

/// GeoReport v2 JSON: an array of requests, or `{"service_requests": [...]}`.
fn from_json(text: &str) -> Result<Vec<Request>, Open311Error> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Open311Error::Format(e.to_string()))?;
    let list = match &doc {
        Value::Array(list) => list,
        Value::Object(map) => match map.get("service_requests") {
            Some(Value::Array(list)) => list,
            _ => return Err(Open311Error::Format("缺少 service_requests 数组".into())),
        },
        _ => return Err(Open311Error::Format("应为工单数组".into())),
    };
    let text_of = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    list.iter()
        .map(|item| match item {
            Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.clone(), text_of(v))).collect()),
            _ => Err(Open311Error::Format("工单应为对象".into())),
        })
        .collect()
}

/// GeoReport v2 XML: `<service_requests><request>…</request></service_requests>`.
fn from_xml(text: &str) -> Result<Vec<Request>, Open311Error> {
    let doc = roxmltree::Document::parse(text).map_err(|e| Open311Error::Format(e.to_string()))?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("request"))
        .map(|request| {
            request
                .children()
                .filter(|c| c.is_element())
                .map(|c| (c.tag_name().name().to_string(), c.text().unwrap_or_default().to_string()))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Open311Mapping {
        Open311Mapping::from_toml(
            "community_code = \"141021100001\"\nlead_cadre_id = \"C01\"\n[categories]\n\"001\" = \"基础设施\"\n",
            "m.toml",
        )
        .expect("mapping")
    }

    #[test]
    fn statuses_dates_and_categories() {
        let json = r#"[{"service_request_id":"R1","status":"closed","service_code":"001","description":"路灯不亮",
            "requested_datetime":"2025-03-01T09:30:00+08:00","updated_datetime":"2025-03-05T17:00:00+08:00"},
            {"service_request_id":"R2","status":"open","service_code":"009","service_name":"噪音",
            "requested_datetime":"2025-03-02T10:00:00+08:00","expected_datetime":"2025-03-09T00:00:00+08:00"}]"#;
        let csv = String::from_utf8(to_topics_csv(json.as_bytes(), &mapping()).expect("csv")).expect("utf-8");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[1],
            "141021100001,R1,路灯不亮,基础设施,hotline,2025-03-01,C01,joint,,2025-03-16,resolved,2025-03-05"
        );
        assert_eq!(lines[2], "141021100001,R2,噪音,other,hotline,2025-03-02,C01,joint,,2025-03-09,in_progress,");
    }

    #[test]
    fn unknown_mapping_fields_are_refused() {
        let err = Open311Mapping::from_toml("community_code=\"1\"\nlead_cadre_id=\"C\"\ncolour=\"red\"\n", "m.toml");
        assert!(matches!(err, Err(Open311Error::Mapping { .. })));
    }
}
