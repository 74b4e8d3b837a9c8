//! The API reference page: the server's own OpenAPI document as a Chinese page, with
//! every operation, its parameters and their constraints, its request body and its
//! answers. Self-contained (no script, no asset from the internet: county networks are
//! often offline).

use serde_json::Value;

use super::html::escape;

/// The page for `doc` (an OpenAPI 3.1 document as JSON).
pub fn api_reference(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{} 接口说明</h1><p>{}</p><p>机器可读的文档：<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>（OpenAPI {}）。\
         调用时在请求头中提供 <code>Authorization: Bearer 令牌</code>（<code>yishi token create</code> 生成），或使用浏览器登录后的会话。</p>",
        escape(title),
        escape(doc["info"]["description"].as_str().unwrap_or_default()),
        escape(doc["openapi"].as_str().unwrap_or_default()),
    ));
    let groups = by_tag(doc);
    body.push_str("<nav>");
    for (tag, ops) in &groups {
        body.push_str(&format!("<h3>{}</h3><ul>", escape(tag)));
        for (method, path, op) in ops {
            body.push_str(&format!(
                "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
                anchor(method, path),
                method.to_uppercase(),
                escape(path),
                escape(op["summary"].as_str().unwrap_or_default())
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</nav>");
    for (tag, ops) in &groups {
        body.push_str(&format!("<h2 class=\"tag\">{}</h2>", escape(tag)));
        for (method, path, op) in ops {
            body.push_str(&operation(doc, method, path, op));
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{} 接口说明</title><style>{}{STYLE}</style></head><body>{body}</body></html>",
        escape(title),
        crate::fonts::PAGE_FONT_CSS
    )
}

const STYLE: &str = "body{font-family:var(--cjk);max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.6}\
code{background:#f3f3f3;padding:0 .3em}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
section{border-top:2px solid #b22;margin-top:2em}h3 code{font-size:1em}h2.tag{margin-top:2.5em;color:#b22}";

/// An operation: method, path and its object in the document.
type Operation<'a> = (&'a str, &'a str, &'a Value);

/// The operations grouped by their first tag, each group named by the tag's Chinese
/// description, in the document's tag order (untagged ones last, as 其他).
fn by_tag(doc: &Value) -> Vec<(String, Vec<Operation<'_>>)> {
    let tags: Vec<(&str, &str)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?, t["description"].as_str().or(t["name"].as_str())?)))
        .collect();
    let mut groups: Vec<(String, Vec<Operation<'_>>)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or_default();
            let name = tags.iter().find(|(t, _)| *t == tag).map_or("其他", |(_, chinese)| *chinese);
            match groups.iter_mut().find(|(n, _)| n == name) {
                Some((_, list)) => list.push((method, path, op)),
                None => groups.push((name.to_string(), vec![(method.as_str(), path.as_str(), op)])),
            }
        }
    }
    let place = |name: &str| tags.iter().position(|(_, chinese)| *chinese == name).unwrap_or(usize::MAX);
    groups.sort_by_key(|(name, _)| place(name));
    groups
}

/// A JSON Schema type as a clerk reads it.
fn type_name(t: &str) -> &str {
    match t {
        "integer" => "整数",
        "number" => "数值",
        "string" => "文本",
        "boolean" => "是/否",
        "array" => "列表",
        "object" => "对象",
        "null" => "空",
        other => other,
    }
}

/// An enumeration's value: a boolean as 是/否, a string as it is.
fn value_name(v: &Value) -> String {
    match v {
        Value::Bool(b) => (if *b { "是" } else { "否" }).to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn anchor(method: &str, path: &str) -> String {
    let mut out = method.to_string();
    for c in path.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    out
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> String {
    let mut out = format!(
        "<section id=\"{}\"><h3><code>{} {}</code> {}</h3>",
        anchor(method, path),
        method.to_uppercase(),
        escape(path),
        escape(op["summary"].as_str().unwrap_or_default())
    );
    if let Some(text) = op["description"].as_str() {
        out.push_str(&format!("<p>{}</p>", escape(text)));
    }
    let public = op["security"].as_array().is_some_and(Vec::is_empty);
    out.push_str(if public { "<p>无需登录。</p>" } else { "<p>需要令牌或登录会话。</p>" });
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h4>参数</h4><table><tr><th>名称</th><th>位置</th><th>必填</th><th>取值</th><th>说明</th></tr>");
        for p in params {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                match p["in"].as_str().unwrap_or_default() {
                    "path" => "路径",
                    "query" => "查询串",
                    "header" => "请求头",
                    other => other,
                },
                if p["required"].as_bool().unwrap_or(false) { "是" } else { "否" },
                escape(&constraints(doc, &p["schema"])),
                escape(p["description"].as_str().unwrap_or_default())
            ));
        }
        out.push_str("</table>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        out.push_str("<h4>请求体</h4><table><tr><th>类型</th><th>内容</th></tr>");
        for (media, body) in content {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(media),
                escape(&constraints(doc, &body["schema"]))
            ));
        }
        out.push_str("</table>");
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<h4>应答</h4><table><tr><th>状态</th><th>说明</th><th>类型</th></tr>");
        for (status, response) in responses {
            let media: Vec<String> =
                response["content"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default();
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(status),
                escape(response["description"].as_str().unwrap_or_default()),
                escape(&media.join("、"))
            ));
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
    out
}

/// A schema in a few words: its type, enumeration, range, pattern or the component it names.
fn constraints(doc: &Value, schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        let target = &doc["components"]["schemas"][name];
        let fields: Vec<String> =
            target["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
        return if fields.is_empty() { name.to_string() } else { format!("{name}：{}", fields.join("、")) };
    }
    let mut parts = Vec::new();
    match &schema["type"] {
        Value::String(t) => parts.push(type_name(t).to_string()),
        Value::Array(ts) => {
            parts.push(ts.iter().filter_map(Value::as_str).map(type_name).collect::<Vec<_>>().join(" 或 "))
        }
        _ => {}
    }
    if let Some(values) = schema["enum"].as_array() {
        parts.push(format!("可选：{}", values.iter().map(value_name).collect::<Vec<_>>().join("、")));
    }
    if let (Some(min), Some(max)) = (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
        parts.push(format!("{min}–{max}"));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        parts.push(format!("格式 {pattern}"));
    }
    if let Some(max) = schema["maxLength"].as_i64() {
        parts.push(format!("最长 {max}"));
    }
    if schema["items"].is_object() {
        parts.push(format!("元素为 {}", constraints(doc, &schema["items"])));
    }
    if let Some(any) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        parts.push(any.iter().map(|s| constraints(doc, s)).collect::<Vec<_>>().join(" | "));
    }
    parts.join("，")
}

#[cfg(test)]
mod tests {
    use super::api_reference;

    #[test]
    fn every_operation_and_its_constraints_are_shown() {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "议事 yishi API", "description": "说明<>"},
            "tags": [{"name": "reports", "description": "报表与图表"}],
            "paths": {"/api/v1/reports/{kind}": {"get": {
                "summary": "报表",
                "tags": ["reports"],
                "parameters": [
                    {"name": "quarter", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 4}},
                    {"name": "partial", "in": "query", "schema": {"type": ["boolean", "null"], "enum": [true, false]}},
                    {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
                ],
                "responses": {"200": {"description": "行", "content": {"application/json": {}, "text/csv": {}}}}
            }}}
        });
        let page = api_reference(&doc);
        for text in [
            "GET /api/v1/reports/{kind}",
            "quarter",
            "整数，1–4",
            "是/否 或 空，可选：是、否",
            "列表，元素为 文本",
            "<h2 class=\"tag\">报表与图表</h2>",
            "查询串",
            "text/csv",
            "说明&lt;&gt;",
        ] {
            assert!(page.contains(text), "{text} missing");
        }
        for token in ["integer", "string", "array", "boolean", "true"] {
            assert!(!page.contains(token), "{token} shown");
        }
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
    }
}
