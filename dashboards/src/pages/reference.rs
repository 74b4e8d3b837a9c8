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
    body.push_str("<nav><ul>");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, ops) in &paths {
        for (method, op) in ops.as_object().into_iter().flatten() {
            body.push_str(&format!(
                "<li><a href=\"#{}\"><code>{} {}</code></a> {}</li>",
                anchor(method, path),
                method.to_uppercase(),
                escape(path),
                escape(op["summary"].as_str().unwrap_or_default())
            ));
        }
    }
    body.push_str("</ul></nav>");
    for (path, ops) in &paths {
        for (method, op) in ops.as_object().into_iter().flatten() {
            body.push_str(&operation(doc, method, path, op));
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{} 接口说明</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.6}\
code{background:#f3f3f3;padding:0 .3em}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
section{border-top:2px solid #b22;margin-top:2em}h2 code{font-size:1em}";

fn anchor(method: &str, path: &str) -> String {
    let mut out = method.to_string();
    for c in path.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    out
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> String {
    let mut out = format!(
        "<section id=\"{}\"><h2><code>{} {}</code> {}</h2>",
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
        out.push_str("<h3>参数</h3><table><tr><th>名称</th><th>位置</th><th>必填</th><th>取值</th><th>说明</th></tr>");
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
        out.push_str("<h3>请求体</h3><table><tr><th>类型</th><th>内容</th></tr>");
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
        out.push_str("<h3>应答</h3><table><tr><th>状态</th><th>说明</th><th>类型</th></tr>");
        for (status, response) in responses {
            let media: Vec<String> =
                response["content"].as_object().map(|c| c.keys().map(|k| format!("{k}")).collect()).unwrap_or_default();
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
        Value::String(t) => parts.push(t.clone()),
        Value::Array(ts) => parts.push(ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" 或 ")),
        _ => {}
    }
    if let Some(values) = schema["enum"].as_array() {
        parts.push(format!(
            "可选：{}",
            values.iter().map(|v| v.as_str().map_or(v.to_string(), str::to_string)).collect::<Vec<_>>().join("、")
        ));
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
        parts.push(format!("数组，元素为 {}", constraints(doc, &schema["items"])));
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
            "paths": {"/api/v1/reports/{kind}": {"get": {
                "summary": "报表",
                "parameters": [{"name": "quarter", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 4}}],
                "responses": {"200": {"description": "行", "content": {"application/json": {}, "text/csv": {}}}}
            }}}
        });
        let page = api_reference(&doc);
        for text in ["GET /api/v1/reports/{kind}", "quarter", "1–4", "查询串", "text/csv", "说明&lt;&gt;"] {
            assert!(page.contains(text), "{text} missing");
        }
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
    }
}
