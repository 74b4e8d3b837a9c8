//! 12345 hotline and city-service work orders as topics: Open311 GeoReport v2 service
//! requests (JSON or XML) turned into the rows of a topics file, then read, checked and
//! committed by the ordinary file path (`yishi ingest 议题 工单.json --format open311
//! --mapping 映射.toml`). A hotline's own JSON export, whose fields have other names
//! (工单编号, 诉求内容, 受理时间, 工单状态 …) and whose statuses are its own (已办结, 办理中 …),
//! takes the same path (`--format workorders`): the mapping's `[fields]` names the export's
//! field for each Open311 field and `[statuses]` maps its statuses to open or closed, so its
//! orders become the same requests before they become topics.
//!
//! What a request does not say — its community, the lead cadre, the handling mode, the
//! category of each service code — comes from the mapping file. Status mapping (documented
//! in docs/ingest.md): `open` → 办理中 (in_progress), `closed` → 已办结 (resolved), and the
//! mapping's `[statuses]`; any other status is passed through with a note that the mapping
//! lacks it, so that the validator rejects the row (`unknown_enum`, naming the value) — an
//! unmappable field is a row error, not a silent guess, even when the export's word
//! happens to be one of our own statuses (待议).

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
    /// Open311 field → the export's field holding it (`--format workorders`; for an Open311
    /// document, a field named here is read from the named field instead).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The export's status → `open` or `closed` (or 办理中, 已办结).
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
}

/// The Open311 request fields a mapping's `[fields]` may name.
pub const OPEN311_FIELDS: [&str; 10] = [
    "service_request_id",
    "status",
    "service_code",
    "service_name",
    "description",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "agency_responsible",
    "address",
];

/// The fields a work-order export must name: without them no row could be valid.
const REQUIRED_FIELDS: [&str; 3] = ["service_request_id", "status", "requested_datetime"];

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
    #[error("工单文件不是 JSON 工单导出（工单对象的数组）：{0}")]
    WorkOrderFormat(String),
}

impl Open311Mapping {
    /// Reads the mapping file (TOML): unknown keys, an unknown Open311 field in `[fields]`
    /// and a status mapped to anything but open/closed are refused.
    pub fn from_toml(text: &str, path: &str) -> Result<Open311Mapping, Open311Error> {
        let wrong = |message: String| Open311Error::Mapping { path: path.to_string(), message };
        let mut mapping: Open311Mapping = toml::from_str(text).map_err(|e| wrong(e.to_string()))?;
        for field in mapping.fields.keys() {
            if !OPEN311_FIELDS.contains(&field.as_str()) {
                return Err(wrong(format!(
                    "[fields] 中的“{field}”不是可映射的工单字段；可用：{}",
                    OPEN311_FIELDS.join("、")
                )));
            }
        }
        for (theirs, ours) in &mut mapping.statuses {
            *ours = match ours.trim() {
                s if s.eq_ignore_ascii_case("open") || s == "办理中" => "open".to_string(),
                s if s.eq_ignore_ascii_case("closed") || s == "已办结" => "closed".to_string(),
                other => {
                    return Err(wrong(format!(
                        "[statuses] 中“{theirs}”对应的“{other}”无效：只能是 open（办理中）或 closed（已办结）"
                    )));
                }
            };
        }
        Ok(mapping)
    }

    /// For `--format workorders`: the mapping must name the export's fields that hold the
    /// order's number, status and time of acceptance.
    pub fn check_work_orders(&self, path: &str) -> Result<(), Open311Error> {
        let missing: Vec<&str> = REQUIRED_FIELDS.iter().copied().filter(|f| !self.fields.contains_key(*f)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Open311Error::Mapping {
            path: path.to_string(),
            message: format!(
                "工单导出需要在 [fields] 中写明 {} 对应的字段名（例如 service_request_id = \"工单编号\"）",
                missing.join("、")
            ),
        })
    }
}

/// One request's fields as text (JSON values or XML elements).
type Request = BTreeMap<String, String>;

/// The requests as the CSV of a topics file, header in the contract's names.
pub fn to_topics_csv(bytes: &[u8], mapping: &Open311Mapping) -> Result<Vec<u8>, Open311Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Open311Error::Format(format!("不是 UTF-8 文本：{e}")))?;
    let requests = if text.trim_start().starts_with('<') { from_xml(text)? } else { from_json(text)? };
    requests_to_csv(requests, mapping)
}

/// A hotline's JSON work-order export (an array of objects, or an object holding one such
/// array, e.g. `{"total": 3, "data": [...]}`) as the CSV of a topics file: each order's
/// fields renamed to Open311's by the mapping's `[fields]`, then as [`to_topics_csv`].
pub fn work_orders_to_topics_csv(bytes: &[u8], mapping: &Open311Mapping) -> Result<Vec<u8>, Open311Error> {
    let bad = Open311Error::WorkOrderFormat;
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("不是 UTF-8 文本：{e}")))?;
    let doc: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| bad(e.to_string()))?;
    let list = match &doc {
        Value::Array(list) => list,
        Value::Object(map) => {
            let arrays: Vec<&Vec<Value>> = map.values().filter_map(Value::as_array).collect();
            match arrays.as_slice() {
                [list] => *list,
                [] => return Err(bad("对象中没有工单数组".into())),
                _ => return Err(bad("对象中有多个数组，无法判断哪个是工单".into())),
            }
        }
        _ => return Err(bad("应为工单对象的数组".into())),
    };
    requests_to_csv(objects(list).map_err(bad)?, mapping)
}

/// The requests as topics, after the mapping's field names apply.
fn requests_to_csv(requests: Vec<Request>, mapping: &Open311Mapping) -> Result<Vec<u8>, Open311Error> {
    if requests.is_empty() {
        return Err(Open311Error::Empty);
    }
    let requests: Vec<Request> = requests.into_iter().map(|r| renamed(r, &mapping.fields)).collect();
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
    let given = field("status");
    let mapped = match m.statuses.get(&given) {
        Some(status) => status.clone(),
        None => given.to_ascii_lowercase(),
    };
    let (status, closed) = match mapped.as_str() {
        "open" => ("in_progress".to_string(), String::new()),
        "closed" => ("resolved".to_string(), date_part(&field("updated_datetime"))),
        _ if given.is_empty() => (given, String::new()),
        _ => (format!("{given}（映射文件 [statuses] 中没有这个工单状态）"), String::new()),
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

/// `2025-03-01T09:30:00+08:00`, `2025/03/01 09:30:15` → `2025-03-01` (the day the request
/// was made where it was made, in any of the file reader's date forms); anything else
/// unchanged, for the validator to judge.
fn date_part(text: &str) -> String {
    let day = text.split([' ', 'T']).next().unwrap_or(text);
    match crate::values::parse_date(day) {
        Some(date) => date.format("%Y-%m-%d").to_string(),
        None => text.to_string(),
    }
}

/// The request with each Open311 field named in `fields` read from the export's field.
fn renamed(mut request: Request, fields: &BTreeMap<String, String>) -> Request {
    for (open311, theirs) in fields {
        let value = request.get(theirs).cloned().unwrap_or_default();
        request.insert(open311.clone(), value);
    }
    request
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
    objects(list).map_err(Open311Error::Format)
}

/// JSON objects as requests, their values as text (null as empty).
fn objects(list: &[Value]) -> Result<Vec<Request>, String> {
    let text_of = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.clone(), text_of(v))).collect()),
            _ => Err(format!("第 {} 个工单不是对象", i + 1)),
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
