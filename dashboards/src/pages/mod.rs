//! The dashboards as server-rendered HTML in Chinese: no script to build, no assets to
//! fetch. Each page function takes the reports already computed in the caller's scope and
//! returns the whole document; charts are `<img>`s of the server's chart endpoints, and
//! every chart and table has download buttons (PNG, SVG, CSV, XLSX). Large type for a
//! projector; a print style sheet for A4.

mod alerts;
pub mod data;
mod deliberation;
mod documents;
mod hot;
mod html;
mod live;
mod overdue;
pub mod public;
mod reference;
mod schemes;
mod views;

pub use html::escape;

/// Where the pages' one script is served: sorting, search and paging of their tables.
pub const TABLES_JS_PATH: &str = "/assets/tables.js";

/// The script at [`TABLES_JS_PATH`] (same origin, as the CSP's `script-src 'self'` allows;
/// the tables read whole without it).
pub const TABLES_JS: &str = include_str!("tables.js");
pub use alerts::{AlertsView, NoticeLine, SubscriptionLine, alerts};
pub use deliberation::{community_sections, units_section};
pub use documents::{DocumentLine, DocumentsView, documents};

/// Where Apache ECharts is served: the pages' interactive charts, from yishi itself (no
/// CDN: county networks are often offline).
pub const ECHARTS_JS_PATH: &str = "/assets/echarts.min.js";

/// The npm package `echarts`' `dist/echarts.min.js`, unmodified (version, SHA-256 and how
/// to update it: `dashboards/assets/echarts/README.md`).
pub const ECHARTS_JS: &[u8] = include_bytes!("../../assets/echarts/echarts.min.js");

/// Where the pages' chart script is served: it turns each chart card into an ECharts chart
/// (hover for values, click to drill down); without it the card keeps its static image.
pub const CHARTS_JS_PATH: &str = "/assets/charts.js";

/// The script at [`CHARTS_JS_PATH`].
pub const CHARTS_JS: &str = include_str!("charts.js");
pub use reference::api_reference;
pub use schemes::{SchemeLine, SchemesView, schemes};
pub use views::TopicHistory;
pub use views::{
    CadreView, CommunityView, cadre, cadres, community, community_list, counties, error, login, overview, quarterly,
    topic, upload, upload_history, upload_preview,
};

/// Which page is shown (highlighted in the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Quarterly,
    Cadres,
    Counties,
    Community,
    Upload,
    /// A county's scoring schemes (county and platform accounts).
    Schemes,
    /// Which communities' public 晒 pages are on.
    Publicity,
    /// The written reports (书面报告) to generate and download.
    Documents,
    /// One's subscriptions and in-app notices (订阅与提醒).
    Alerts,
    /// One cadre (reached from a row; not in the navigation bar).
    Cadre,
    /// One topic (reached from a row; not in the navigation bar).
    Topic,
}

impl Nav {
    pub const ALL: [Nav; 10] = [
        Nav::Overview,
        Nav::Quarterly,
        Nav::Cadres,
        Nav::Counties,
        Nav::Community,
        Nav::Documents,
        Nav::Upload,
        Nav::Schemes,
        Nav::Publicity,
        Nav::Alerts,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Nav::Overview => "/overview",
            Nav::Quarterly => "/quarterly",
            Nav::Cadres => "/cadres",
            Nav::Counties => "/counties",
            Nav::Community => "/community",
            Nav::Upload => "/upload",
            Nav::Schemes => "/schemes",
            Nav::Publicity => "/publicity",
            Nav::Documents => "/documents",
            Nav::Alerts => "/alerts",
            Nav::Cadre => "/cadre",
            Nav::Topic => "/topic",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Nav::Overview => "总览",
            Nav::Quarterly => "季度满意度分析",
            Nav::Cadres => "干部考核",
            Nav::Counties => "县区对比",
            Nav::Community => "社区详情",
            Nav::Upload => "上传台账",
            Nav::Schemes => "评分方案",
            Nav::Publicity => "公示页",
            Nav::Documents => "书面报告",
            Nav::Alerts => "订阅与提醒",
            Nav::Cadre => "干部详情",
            Nav::Topic => "议题详情",
        }
    }

    /// Whether the page shows the filter form (a detail page is reached from a row and
    /// keeps its own key, which the form does not carry).
    pub fn has_filters(self) -> bool {
        !matches!(self, Nav::Upload | Nav::Schemes | Nav::Publicity | Nav::Alerts | Nav::Cadre | Nav::Topic)
    }
}

/// The filters in force on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub year: i32,
    pub quarter: Option<u32>,
    pub county: Option<String>,
    pub community: Option<String>,
}

impl Filters {
    /// The filters as a query string (`year=2025&quarter=3&…`).
    pub fn query(&self) -> String {
        let mut parts = vec![format!("year={}", self.year)];
        if let Some(q) = self.quarter {
            parts.push(format!("quarter={q}"));
        }
        if let Some(c) = &self.county {
            parts.push(format!("county={c}"));
        }
        if let Some(c) = &self.community {
            parts.push(format!("community={c}"));
        }
        parts.join("&")
    }

    /// The community page of `code` with these filters' period: the drill-down from a
    /// ranking or list row.
    pub fn community_href(&self, code: &str) -> String {
        let quarter = self.quarter.map(|q| q.to_string());
        community_url(self.year, quarter.as_deref(), code.get(..6), code)
    }

    /// The cadre page of cadre `cadre` of community `community` in these filters' year.
    pub fn cadre_href(&self, community: &str, cadre: &str) -> String {
        let year = self.year.to_string();
        let q = [("year", year.as_str()), ("community", community), ("cadre", cadre)];
        format!("/cadre?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }

    /// The topic page of topic `topic` of community `community`.
    pub fn topic_href(&self, community: &str, topic: &str) -> String {
        let year = self.year.to_string();
        let q = [("year", year.as_str()), ("community", community), ("topic", topic)];
        format!("/topic?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }

    /// "2025年第3季度" or "2025年".
    pub fn period(&self) -> String {
        match self.quarter {
            Some(q) => format!("{}年第{q}季度", self.year),
            None => format!("{}年", self.year),
        }
    }
}

/// `/community?year=…&quarter=…&county=…&community=…` (the interactive charts fill in
/// templates of it, `live.rs`).
fn community_url(year: i32, quarter: Option<&str>, county: Option<&str>, community: &str) -> String {
    let mut url = format!("/community?year={year}");
    for (key, value) in [("quarter", quarter), ("county", county), ("community", Some(community))] {
        if let Some(value) = value {
            url.push_str(&format!("&{key}={value}"));
        }
    }
    url
}

/// A county or community in a filter's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub county_code: String,
}

/// What the filters offer: the years with data and the places in the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub years: Vec<i32>,
    pub counties: Vec<Place>,
    pub communities: Vec<Place>,
    /// The caller is a county or community account: the county cannot be changed.
    pub county_fixed: bool,
    /// The caller is a community account: the community cannot be changed.
    pub community_fixed: bool,
}

/// What every page shows around its content.
#[derive(Debug, Clone)]
pub struct Page {
    pub nav: Nav,
    /// The signed-in user's display name.
    pub user: String,
    /// The account's scope, as shown ("县区账号 141026").
    pub scope: String,
    /// The place the page's figures cover ("东岭社区（安泽县）", "安泽县", "全部县区"):
    /// printed in the title with the period.
    pub place: String,
    pub filters: Filters,
    pub options: Options,
    /// Shown above the content, e.g. that the period has no topics.
    pub notice: Option<String>,
    /// The account's in-app notices of the last 7 days, counted beside 订阅与提醒 in the
    /// navigation.
    pub notices: usize,
    /// The 口径 lines below the content: the schemes (name, version, hash) and data
    /// versions the figures were computed with, and notes such as a frozen result's.
    pub about: Vec<String>,
}

impl Page {
    /// What the page covers, as its title and print title state it:
    /// "安泽县 · 季度满意度分析 · 2025年第3季度".
    pub fn coverage(&self) -> String {
        format!("{} · {} · {}", self.place, self.nav.title(), self.filters.period())
    }
}

/// A plain table (headers and cells as text) for rows that are not a report.
#[derive(Debug, Clone, Default)]
pub struct TextTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Per row, per cell, where the cell leads (the drill-down); empty for none.
    pub links: Vec<Vec<Option<String>>>,
    /// Per row, the row's `id` (an anchor to link to); empty for none.
    pub row_ids: Vec<String>,
}

/// One topic a cadre led, with its ratings: the evidence behind a cadre's score.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub community_code: String,
    pub cadre_id: String,
    pub topic_id: String,
    pub title: String,
    pub status: String,
    pub evaluations: i64,
    pub satisfied: i64,
    /// Mean of the four rating dimensions (1–5).
    pub mean_rating: Option<f64>,
}

/// One row error of an upload, as the upload page lists it.
#[derive(Debug, Clone)]
pub struct UploadError {
    pub row: usize,
    pub header: String,
    pub column: String,
    pub value: String,
    pub message: String,
}

/// The result of an upload, shown on the upload page.
#[derive(Debug, Clone, Default)]
pub struct UploadResult {
    pub file_name: String,
    pub table: String,
    /// committed, refused or unchanged; empty for a file that could not be read.
    pub outcome: String,
    pub message: String,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    pub errors: Vec<UploadError>,
    pub rejects_url: Option<String>,
}

/// What an upload would do, shown on the upload page before the clerk confirms it.
#[derive(Debug, Clone, Default)]
pub struct UploadPreview {
    pub file_name: String,
    pub table: String,
    /// 新增 N、更新 M、不变 K、不合格 R (and why nothing would be written).
    pub summary: String,
    /// The first changed rows, each "社区 / 编号：列 旧 → 新；…".
    pub changes: Vec<String>,
    /// More rows would change than are listed.
    pub more_changes: bool,
    pub errors: Vec<UploadError>,
    /// The held file's id when it can be confirmed.
    pub hold: Option<String>,
}

/// One table on the upload page: how many rows the caller's scope holds and when it was
/// last uploaded (its columns come from the contract, `ingest::Table::columns`).
#[derive(Debug, Clone)]
pub struct TableStatus {
    pub table: ingest::Table,
    pub rows: u64,
    /// "2026-12-07 11:14 张三" of the last upload in the scope, if any.
    pub last_upload: Option<String>,
}

/// One upload in the batch history.
#[derive(Debug, Clone, Default)]
pub struct BatchLine {
    /// When, Beijing time.
    pub at: String,
    pub actor: String,
    /// The table's Chinese name.
    pub table: String,
    pub file_name: String,
    /// 已写入、未写入、已导入过
    pub outcome: String,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub rejects_url: Option<String>,
}
