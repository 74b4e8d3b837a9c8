//! The OpenAPI 3.1 document of the JSON API, written by hand (no Swagger UI is served).
//! A test walks its paths against the router, so the document and the routes agree.

use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "400": { "$ref": "#/components/responses/Error" },
        "401": { "$ref": "#/components/responses/Error" },
        "403": { "$ref": "#/components/responses/Error" },
        "404": { "$ref": "#/components/responses/Error" },
        "503": { "$ref": "#/components/responses/Error" }
    })
}

fn with_errors(ok: Value) -> Value {
    let mut responses = error_responses();
    if let (Some(map), Some(ok)) = (responses.as_object_mut(), ok.as_object()) {
        for (k, v) in ok {
            map.insert(k.clone(), v.clone());
        }
    }
    responses
}

fn filters() -> Value {
    json!([
        { "name": "year", "in": "query", "schema": { "type": "integer" }, "description": "年度（默认：有数据的最近一年）" },
        { "name": "quarter", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 4 }, "description": "季度" },
        { "name": "county", "in": "query", "schema": { "type": "string", "pattern": "^[0-9]{6}$" }, "description": "县区代码：只能缩小到本账号范围内，否则 403" },
        { "name": "community", "in": "query", "schema": { "type": "string", "pattern": "^[0-9]{12}$" }, "description": "社区代码：只能缩小到本账号范围内，否则 403" }
    ])
}

/// The document.
pub fn document() -> Value {
    let mut report_params = filters();
    if let Some(list) = report_params.as_array_mut() {
        list.insert(0, json!({ "name": "kind", "in": "path", "required": true, "schema": { "type": "string", "enum": ["quarterly", "quarterly_by_category", "quarterly_by_channel", "cadres", "communities", "counties"] } }));
        list.push(
            json!({ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv", "xlsx"] } }),
        );
        list.push(
            json!({ "name": "by", "in": "query", "schema": { "type": "string", "enum": ["category", "channel"] } }),
        );
    }
    let mut chart_params = filters();
    if let Some(list) = chart_params.as_array_mut() {
        let names: Vec<String> = dashboards::charts::ChartName::ALL
            .iter()
            .flat_map(|c| [format!("{}.png", c.name()), format!("{}.svg", c.name())])
            .collect();
        list.insert(
            0,
            json!({ "name": "file", "in": "path", "required": true, "schema": { "type": "string", "enum": names } }),
        );
        list.push(json!({ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["download"] }, "description": "download：作为附件下载" }));
    }
    let id = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "议事 yishi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "说事议事台账的导入、报表、图表与只读 SQL。每个请求都在调用者的范围（平台、县区、社区）内执行。错误为 {\"code\": \"…\", \"message\": \"中文说明\"}。"
        },
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": {
            "/healthz": { "get": {
                "summary": "健康检查", "security": [],
                "responses": { "200": { "description": "正常" }, "503": { "$ref": "#/components/responses/Error" } }
            } },
            "/api/v1/openapi.json": { "get": {
                "summary": "本文档", "security": [],
                "responses": { "200": { "description": "OpenAPI 文档" } }
            } },
            "/api/v1/me": { "get": {
                "summary": "当前账号及其范围",
                "responses": with_errors(json!({ "200": { "description": "账号", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Account" } } } } }))
            } },
            "/api/v1/ingest/{table}": { "post": {
                "summary": "上传台账文件（multipart 的文件字段，或原始请求体）",
                "parameters": [
                    { "name": "table", "in": "path", "required": true, "schema": { "type": "string", "enum": ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"] } },
                    { "name": "partial", "in": "query", "schema": { "type": "boolean" }, "description": "true：只写入合格的行" },
                    { "name": "sheet", "in": "query", "schema": { "type": "string" } },
                    { "name": "filename", "in": "query", "schema": { "type": "string" }, "description": "原始请求体的文件名（扩展名决定格式）" }
                ],
                "requestBody": { "required": true, "content": {
                    "multipart/form-data": { "schema": { "type": "object", "properties": { "file": { "type": "string", "format": "binary" }, "partial": { "type": "string" }, "sheet": { "type": "string" } } } },
                    "application/octet-stream": { "schema": { "type": "string", "format": "binary" } },
                    "text/csv": { "schema": { "type": "string" } }
                } },
                "responses": with_errors(json!({
                    "200": { "description": "已写入或已导入过", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/IngestAnswer" } } } },
                    "413": { "$ref": "#/components/responses/Error" },
                    "422": { "description": "有不合格的行，整批未写入（或文件无法解析）", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/IngestAnswer" } } } }
                }))
            } },
            "/api/v1/reports/{kind}": { "get": {
                "summary": "报表：行与 `yishi report --format json` 相同",
                "parameters": report_params,
                "responses": with_errors(json!({ "200": { "description": "报表行（JSON 数组）、CSV 或 XLSX", "content": {
                    "application/json": { "schema": { "type": "array", "items": { "type": "object" } } },
                    "text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                } } }))
            } },
            "/api/v1/charts/{file}": { "get": {
                "summary": "图表（PNG 或 SVG）",
                "parameters": chart_params,
                "responses": with_errors(json!({ "200": { "description": "图片", "content": { "image/png": {}, "image/svg+xml": {} } } }))
            } },
            "/api/v1/sql": { "post": {
                "summary": "只读 SQL（只能查询本账号范围内的行）",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SqlRequest" } } } },
                "responses": with_errors(json!({ "200": { "description": "结果", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SqlAnswer" } }, "text/csv": {} } } }))
            } },
            "/api/v1/batches": { "get": {
                "summary": "经服务器上传的批次（本范围内的账号）",
                "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer" } }],
                "responses": with_errors(json!({ "200": { "description": "批次列表" } }))
            } },
            "/api/v1/batches/{id}": { "get": {
                "summary": "一个批次及其错误行",
                "parameters": id,
                "responses": with_errors(json!({ "200": { "description": "批次" } }))
            } },
            "/api/v1/batches/{id}/rejects.csv": { "get": {
                "summary": "下载被拒绝的行（CSV，改正后可重新上传）",
                "parameters": id,
                "responses": with_errors(json!({ "200": { "description": "CSV", "content": { "text/csv": {} } } }))
            } },
            "/api/v1/audit": { "get": {
                "summary": "审计日志：谁上传、谁导出了什么",
                "parameters": [
                    { "name": "limit", "in": "query", "schema": { "type": "integer" } },
                    { "name": "action", "in": "query", "schema": { "type": "string" } }
                ],
                "responses": with_errors(json!({ "200": { "description": "日志" } }))
            } }
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "yishi token create 生成的令牌（yishi_…）" },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE }
            },
            "responses": {
                "Error": { "description": "错误", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string", "description": "稳定的英文代码，例如 forbidden_scope、invalid_token、token_revoked、payload_too_large、invalid_multipart、sql_refused" },
                    "message": { "type": "string", "description": "中文说明" }
                } },
                "Account": { "type": "object", "properties": {
                    "name": { "type": "string" }, "display_name": { "type": "string" },
                    "role": { "type": "string", "enum": ["platform", "county", "community"] },
                    "scope": { "type": "object" }, "via": { "type": "string" }
                } },
                "RowError": { "type": "object", "properties": {
                    "row": { "type": "integer", "description": "表格中的行号（表头为第 1 行）" },
                    "column": { "type": "string" }, "header": { "type": "string" }, "value": { "type": "string" },
                    "kind": { "type": "string" }, "message": { "type": "string" }
                } },
                "IngestAnswer": { "type": "object", "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" },
                    "batch_id": { "type": "integer" }, "table": { "type": "string" }, "file_name": { "type": "string" },
                    "outcome": { "type": "string", "enum": ["committed", "refused", "unchanged"] },
                    "partial": { "type": "boolean" },
                    "rows_accepted": { "type": "integer" }, "rows_rejected": { "type": "integer" },
                    "rows_inserted": { "type": "integer" }, "rows_updated": { "type": "integer" },
                    "version": { "type": ["integer", "null"] },
                    "errors": { "type": "array", "items": { "$ref": "#/components/schemas/RowError" } },
                    "rejects_csv_url": { "type": ["string", "null"] }
                } },
                "SqlRequest": { "type": "object", "required": ["sql"], "properties": {
                    "sql": { "type": "string" }, "format": { "type": "string", "enum": ["json", "csv"] },
                    "county": { "type": "string" }, "community": { "type": "string" }
                } },
                "SqlAnswer": { "type": "object", "properties": {
                    "columns": { "type": "array", "items": { "type": "string" } },
                    "row_count": { "type": "integer" }, "truncated": { "type": "boolean" },
                    "rows": { "type": "array", "items": { "type": "array" } }
                } }
            }
        }
    })
}
