//! The OpenAPI 3.1 document, generated (utoipa) from the handlers' `#[utoipa::path]`
//! attributes and the types they take and answer, so that a route, a parameter or a
//! field cannot change without the document changing with it. The rows of each report are
//! described from the same column definitions the reports are computed with
//! (`ReportKind::columns`): a renamed figure renames its property here.
//!
//! [`router`] is the JSON API as an `OpenApiRouter`: the server takes its axum routes, and
//! [`document`] its OpenAPI half.

use std::sync::OnceLock;

use axum::extract::DefaultBodyLimit;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use warehouse::analyses::ReportKind;
use warehouse::arrow::datatypes::DataType;

use crate::routes::{api, schemes, subscriptions};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "议事 yishi API",
        description = "说事议事台账的导入、报表、图表与只读 SQL。每个请求都在调用者的范围（平台、县区、社区）内执行；\
                       超出范围的筛选为 403。错误为 {\"code\": \"英文代码\", \"message\": \"中文说明\"}。"
    ),
    security(("bearer" = []), ("session" = [])),
    // The /api/v1/docs page groups the operations under these Chinese names.
    tags(
        (name = "reports", description = "报表与图表"),
        (name = "ledger", description = "台账导入与批次"),
        (name = "sql", description = "只读 SQL 查询"),
        (name = "schemes", description = "评分方案与冻结的年度结果"),
        (name = "accounts", description = "账号与审计"),
        (name = "alerts", description = "订阅与提醒"),
        (name = "server", description = "服务与接口文档"),
    ),
    modifiers(&Security),
    components(schemas(
        crate::error::ErrorBody,
        crate::routes::api::OutputFormat,
        crate::routes::api::ChartDelivery,
        crate::routes::api::Breakdown,
        crate::routes::api::SqlFormat,
        crate::uploads::RowErrorDoc,
        crate::uploads::SkippedRowDoc,
        crate::accounts::ScopeDoc,
    ))
)]
struct ApiDoc;

/// The JSON API's routes with their documentation.
pub fn router(upload_limit: DefaultBodyLimit) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::healthz))
        .routes(routes!(api::openapi))
        .routes(routes!(api::reference))
        .routes(routes!(api::me))
        .routes(routes!(api::ingest).layer(upload_limit))
        .routes(routes!(api::template))
        .routes(routes!(api::report))
        .routes(routes!(api::chart))
        .routes(routes!(api::document))
        .routes(routes!(api::pack))
        .routes(routes!(api::sql))
        .routes(routes!(api::batches))
        .routes(routes!(api::batch))
        .routes(routes!(api::batch_rejects))
        .routes(routes!(api::audit))
        .routes(routes!(api::topic_history))
        .routes(routes!(schemes::upload, schemes::list))
        .routes(routes!(schemes::one))
        .routes(routes!(schemes::freeze))
        .routes(routes!(subscriptions::list, subscriptions::create))
        .routes(routes!(subscriptions::delete))
}

/// The document (built once).
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // These two work on the paths, which the routes add after the derive's modifiers ran.
        let mut document = router(DefaultBodyLimit::disable()).into_openapi();
        ReportRows.modify(&mut document);
        PathNames.modify(&mut document);
        Public.modify(&mut document);
        document
    })
}

/// The operations anyone may call, without a token or session.
const PUBLIC: [&str; 3] = ["/healthz", "/api/v1/openapi.json", "/api/v1/docs"];

struct Public;

impl Modify for Public {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in PUBLIC {
            if let Some(item) = openapi.paths.paths.get_mut(path)
                && let Some(get) = item.get.as_mut()
            {
                get.security = Some(Vec::new());
            }
        }
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("yishi token create 生成的令牌（yishi_…）".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "浏览器登录后的会话",
            ))),
        );
    }
}

/// Each report's row schema from its column definitions, and the report operation's JSON
/// answer as an array of any of them.
struct ReportRows;

impl Modify for ReportRows {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut any = AnyOfBuilder::new();
        for kind in ReportKind::ALL {
            let name = row_schema_name(kind);
            components.schemas.insert(name.clone(), RefOr::T(row_schema(kind)));
            any = any.item(Ref::from_schema_name(name));
        }
        let rows = ArrayBuilder::new().items(any).build();
        if let Some(item) = openapi.paths.paths.get_mut("/api/v1/reports/{kind}")
            && let Some(get) = item.get.as_mut()
            && let Some(RefOr::T(ok)) = get.responses.responses.get_mut("200")
            && let Some(RefOr::T(json)) = ok.content.get_mut("application/json")
        {
            json.schema = Some(RefOr::T(Schema::Array(rows)));
        }
    }
}

/// The names a path takes, from the lists the server parses them with: tables
/// (`Table::ALL`, also as template files), reports (`ReportKind::ALL`), chart files (`ChartName::ALL`, as PNG
/// and as SVG), document files (`DocumentFormat::ALL`) and the pack (`packs::FILE`).
struct PathNames;

impl Modify for PathNames {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let tables: Vec<String> = ingest::Table::ALL.iter().map(|t| t.name().to_string()).collect();
        let kinds: Vec<String> = ReportKind::ALL.iter().map(|k| k.name().to_string()).collect();
        let templates: Vec<String> = ingest::Table::ALL
            .iter()
            .flat_map(|t| [format!("{}.xlsx", t.name()), format!("{}.csv", t.name())])
            .collect();
        let charts: Vec<String> = dashboards::charts::ChartName::ALL
            .iter()
            .flat_map(|c| [format!("{}.png", c.name()), format!("{}.svg", c.name())])
            .collect();
        let documents: Vec<String> = crate::documents::DocumentFormat::ALL.iter().map(|f| f.file()).collect();
        for (path, parameter, names) in [
            ("/api/v1/documents/{file}", "file", documents),
            ("/api/v1/packs/{file}", "file", vec![crate::packs::FILE.to_string()]),
            ("/api/v1/ingest/{table}", "table", tables),
            ("/api/v1/reports/{kind}", "kind", kinds),
            ("/api/v1/charts/{file}", "file", charts),
            ("/api/v1/templates/{file}", "file", templates),
        ] {
            let schema = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).build();
            let item = openapi.paths.paths.get_mut(path);
            let operation = item.and_then(|i| i.get.as_mut().or(i.post.as_mut()));
            if let Some(parameters) = operation.and_then(|o| o.parameters.as_mut())
                && let Some(RefOr::T(p)) =
                    parameters.iter_mut().find(|p| matches!(p, RefOr::T(p) if p.name == parameter))
            {
                p.schema = Some(RefOr::T(Schema::Object(schema)));
            }
        }
    }
}

/// `QuarterlyRow`, `CadresRow`, …
fn row_schema_name(kind: ReportKind) -> String {
    let camel: String = kind
        .name()
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{camel}Row")
}

/// One report row: every column, typed as the report's batches are, its Chinese header as
/// the description; keys and periods are never null, figures may be (a rate over no
/// topics, an unranked cadre).
fn row_schema(kind: ReportKind) -> Schema {
    let mut object = ObjectBuilder::new().description(Some(format!("{}的一行", kind.chinese())));
    for column in kind.columns() {
        let (base, nullable) = match column.kind.data_type() {
            DataType::Int64 | DataType::Int32 | DataType::UInt64 => (Type::Integer, true),
            DataType::Float64 => (Type::Number, true),
            DataType::Boolean => (Type::Boolean, true),
            _ => (Type::String, true),
        };
        let never_null =
            matches!(column.kind, warehouse::analyses::ColumnKind::Key | warehouse::analyses::ColumnKind::Period);
        let schema_type =
            if nullable && !never_null { SchemaType::from_iter([base, Type::Null]) } else { SchemaType::Type(base) };
        let property = ObjectBuilder::new().schema_type(schema_type).description(Some(column.chinese));
        object = object.property(column.key, property).required(column.key);
    }
    Schema::AllOf(AllOfBuilder::new().item(object.build()).build())
}
