//! The frame of every page (navigation, filters, style sheet) and the pieces pages are
//! made of: charts with download buttons, report tables, headline cards.

use std::fmt::Write;

use warehouse::analyses::{ColumnKind, Figure, Report};

use super::data;
use super::{Filters, Nav, Page};

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --red: #c8102e; --ink: #1d1d1f; --muted: #666; --line: #ddd; --bg: #f6f6f4; }
* { box-sizing: border-box; }
html { font-size: clamp(16px, 1.1vw + 8px, 24px); }
body { margin: 0; color: var(--ink); background: var(--bg);
  font-family: var(--cjk);
  line-height: 1.5; }
header.top { background: var(--red); color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; }
header.top h1 { font-size: 1.3rem; margin: 0; }
header.top nav { display: flex; flex-wrap: wrap; }
header.top nav a { color: #fff; text-decoration: none; padding: .25rem .6rem; border-radius: .3rem; display: inline-block; white-space: nowrap; }
header.top nav a.on { background: rgba(255,255,255,.25); font-weight: bold; }
header.top .who { margin-left: auto; font-size: .9rem; }
header.top .who button { font-size: .9rem; }
main { padding: 1rem; max-width: 1600px; margin: 0 auto; }
h2 { font-size: 1.4rem; margin: .5rem 0; }
h3 { font-size: 1.15rem; margin: .3rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; background: #fff; padding: .6rem .8rem; border: 1px solid var(--line); border-radius: .4rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
select, input, button { font-size: 1rem; padding: .3rem .5rem; }
button, a.button { background: var(--red); color: #fff; border: 0; border-radius: .3rem; cursor: pointer; text-decoration: none; padding: .3rem .7rem; display: inline-block; }
a.button.light { background: #fff; color: var(--red); border: 1px solid var(--red); font-size: .85rem; padding: .15rem .5rem; }
.cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: .8rem; margin: 1rem 0; }
@media (min-width: 40rem) { .cards.n6 { grid-template-columns: repeat(3, 1fr); } .cards.n4 { grid-template-columns: repeat(4, 1fr); } }
@media (min-width: 90rem) { .cards.n6 { grid-template-columns: repeat(6, 1fr); } }
.card { background: #fff; border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .9rem; }
.card .n { font-size: 2rem; font-weight: bold; color: var(--red); }
.card .l { color: var(--muted); }
.card .d { font-size: .85rem; color: var(--muted); }
.card .d.up { color: #2c8a3c; }
.card .d.down { color: var(--red); }
section.box { background: #fff; border: 1px solid var(--line); border-radius: .4rem; padding: .8rem; margin: 1rem 0; break-inside: avoid; overflow-x: auto; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(28rem, 100%), 1fr)); gap: 1rem; }
figure { margin: 0; }
figure img { width: 100%; max-width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
/* The ECharts chart replaces the static image on screen; print keeps the static one (drawn for A4). */
figure .live { width: 100%; max-width: 100%; border: 1px solid var(--line); background: #fff; }
figure.live-on img.static { display: none; }
.downloads { display: flex; gap: .4rem; flex-wrap: wrap; margin: .3rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; }
th { background: #faf0f0; position: sticky; top: 0; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fff3f3; }
.scroll { max-height: 36rem; overflow: auto; }
.note { color: var(--muted); font-size: .85rem; }
/* The 口径 footer holds hashes and version lists: they wrap rather than widen a phone's page. */
#about { overflow-wrap: anywhere; }
.alert { background: #fff3f3; border: 1px solid var(--red); padding: .6rem .8rem; border-radius: .4rem; }
.ok { background: #f0fff3; border: 1px solid #2c8a3c; padding: .6rem .8rem; border-radius: .4rem; }
details summary { cursor: pointer; }
th.sortable { cursor: pointer; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
.table-tools { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: .3rem 0; }
.login { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border: 1px solid var(--line); border-radius: .5rem; }
.login label { display: block; margin: .6rem 0; }
.login input { width: 100%; }
/* A phone (390 px): the page never scrolls sideways; wide tables scroll inside their card. */
@media (max-width: 40rem) {
  main { padding: .5rem; }
  header.top { gap: .4rem; }
  header.top .who { margin-left: 0; }
  .card .n { font-size: 1.5rem; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  html { font-size: 10.5pt; }
  body { background: #fff; }
  header.top, form.filters, .downloads, .no-print { display: none !important; }
  main { padding: 0; max-width: none; }
  section.box { border: 0; padding: 0; margin: 0 0 6mm; overflow: visible; }
  .grid2 { grid-template-columns: 1fr 1fr; }
  .cards.n6 { grid-template-columns: repeat(3, 1fr); }
  .scroll { max-height: none; overflow: visible; }
  th { position: static; }
  .print-title { display: block !important; }
  figure .live { display: none !important; }
  figure.live-on img.static { display: block; }
}
.print-title { display: none; font-size: 14pt; font-weight: bold; }
"#;

/// How a chart card starts; a page with one loads ECharts and the charts' script.
const CHART_CARD: &str = "<figure class=\"chart\"";

/// A whole document around `body`.
pub(super) fn document(title: &str, body: &str) -> String {
    // Deferred scripts run in order: ECharts before the script that uses it.
    let charts = if body.contains(CHART_CARD) {
        format!(
            "<script src=\"{}\" defer></script><script src=\"{}\" defer></script>",
            super::ECHARTS_JS_PATH,
            super::CHARTS_JS_PATH
        )
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · 议事</title><style>{}{STYLE}</style>\
         <script src=\"{}\" defer></script>{charts}</head><body>{body}</body></html>",
        escape(title),
        crate::fonts::PAGE_FONT_CSS,
        super::TABLES_JS_PATH
    )
}

/// A page with navigation, the filters and `content`.
pub(super) fn frame(page: &Page, content: &str) -> String {
    let mut nav = String::new();
    for item in Nav::ALL {
        // Schemes are the county's to manage: not in a community account's navigation.
        if item == Nav::Schemes && page.options.community_fixed {
            continue;
        }
        let class = if item == page.nav { " class=\"on\"" } else { "" };
        let query = if matches!(item, Nav::Upload | Nav::Schemes | Nav::Publicity | Nav::Alerts) {
            String::new()
        } else {
            format!("?{}", page.filters.query())
        };
        let count = if item == Nav::Alerts && page.notices > 0 {
            format!("<span class=\"count\" id=\"notice-count\">（{}）</span>", page.notices)
        } else {
            String::new()
        };
        let _ = write!(nav, "<a href=\"{}{}\"{class}>{}{count}</a>", item.path(), escape(&query), item.title());
    }
    let body = format!(
        "<header class=\"top\"><h1>议事 · 说事议事分析</h1><nav>{nav}</nav>\
         <div class=\"who\">{} （{}）<form method=\"post\" action=\"/logout\" style=\"display:inline\">\
         <button type=\"submit\">退出</button></form></div></header>\
         <main><div class=\"print-title\" id=\"print-title\">{}</div><h2>{}</h2>{}{}{content}{}</main>",
        escape(&page.user),
        escape(&page.scope),
        escape(&page.coverage()),
        page.nav.title(),
        if page.nav.has_filters() { filters(page) } else { String::new() },
        page.notice
            .as_deref()
            .map(|n| format!("<p class=\"alert\" id=\"notice\">{}</p>", escape(n)))
            .unwrap_or_default(),
        about(&page.about),
    );
    let title = if matches!(page.nav, Nav::Upload | Nav::Schemes | Nav::Publicity | Nav::Alerts) {
        page.nav.title().to_string()
    } else {
        page.coverage()
    };
    document(&title, &body)
}

/// The 口径 lines at the foot of the page (printed too).
fn about(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let items: String = lines.iter().map(|l| format!("<li>{}</li>", escape(l))).collect();
    format!("<footer class=\"note\" id=\"about\"><strong>口径</strong><ul>{items}</ul></footer>")
}

/// The filter form: year, quarter, county, community.
fn filters(page: &Page) -> String {
    let f = &page.filters;
    let o = &page.options;
    let mut years = String::new();
    for y in o.years.iter().rev() {
        let sel = if *y == f.year { " selected" } else { "" };
        let _ = write!(years, "<option value=\"{y}\"{sel}>{y}年</option>");
    }
    let mut quarters = String::from("<option value=\"\">全年</option>");
    for q in 1..=4u32 {
        let sel = if f.quarter == Some(q) { " selected" } else { "" };
        let _ = write!(quarters, "<option value=\"{q}\"{sel}>第{q}季度</option>");
    }
    let mut counties = String::new();
    if !o.county_fixed {
        counties.push_str("<option value=\"\">全部县区</option>");
    }
    for c in &o.counties {
        let sel = if f.county.as_deref() == Some(c.code.as_str()) { " selected" } else { "" };
        let _ = write!(counties, "<option value=\"{}\"{sel}>{}</option>", escape(&c.code), escape(&c.name));
    }
    let mut communities = String::new();
    if !o.community_fixed {
        communities.push_str("<option value=\"\">全部社区</option>");
    }
    for c in o.communities.iter().filter(|c| f.county.as_deref().is_none_or(|county| c.county_code == county)) {
        let sel = if f.community.as_deref() == Some(c.code.as_str()) { " selected" } else { "" };
        let _ = write!(communities, "<option value=\"{}\"{sel}>{}</option>", escape(&c.code), escape(&c.name));
    }
    format!(
        "<form class=\"filters\" method=\"get\" action=\"{}\">\
         <label>年度<select name=\"year\">{years}</select></label>\
         <label>季度<select name=\"quarter\">{quarters}</select></label>\
         <label>县区<select name=\"county\">{counties}</select></label>\
         <label>社区<select name=\"community\">{communities}</select></label>\
         <button type=\"submit\">查看</button>\
         <a class=\"button light no-print\" href=\"javascript:window.print()\">打印（A4）</a></form>",
        page.nav.path()
    )
}

/// A chart card with its download buttons: PNG and SVG of the chart, CSV and XLSX of the
/// report it is drawn from. The static image shows the chart without script and in print;
/// on screen `charts.js` draws it with ECharts from the spec in `data-live` (`live.rs`).
pub(super) fn chart(name: &str, title: &str, report_kind: &str, filters: &Filters) -> String {
    let q = escape(&filters.query());
    let live = super::live::spec(name, filters).map(|s| format!(" data-live=\"{}\"", escape(&s))).unwrap_or_default();
    format!(
        "{CHART_CARD} id=\"chart-{name}\"{live}><h3>{}</h3>\
         <img class=\"static\" src=\"/api/v1/charts/{name}.png?{q}\" alt=\"{}\" loading=\"eager\">\
         <div class=\"downloads\">\
         <a class=\"button light\" download href=\"/api/v1/charts/{name}.png?{q}&amp;format=download\">PNG</a>\
         <a class=\"button light\" download href=\"/api/v1/charts/{name}.svg?{q}&amp;format=download\">SVG</a>\
         <a class=\"button light\" download href=\"/api/v1/reports/{report_kind}?{q}&amp;format=csv\">CSV</a>\
         <a class=\"button light\" download href=\"/api/v1/reports/{report_kind}?{q}&amp;format=xlsx\">XLSX</a>\
         </div></figure>",
        escape(title),
        escape(title)
    )
}

/// CSV and XLSX buttons of a report.
pub(super) fn table_downloads(report_kind: &str, filters: &Filters) -> String {
    let q = escape(&filters.query());
    format!(
        "<div class=\"downloads\">\
         <a class=\"button light\" download href=\"/api/v1/reports/{report_kind}?{q}&amp;format=csv\">CSV</a>\
         <a class=\"button light\" download href=\"/api/v1/reports/{report_kind}?{q}&amp;format=xlsx\">XLSX</a></div>"
    )
}

/// Selected columns of a report as a table, rows in `order` (all rows when `None`).
pub(super) fn report_table(report: &Report, figures: &[Figure], order: Option<&[usize]>) -> String {
    linked_table(report, figures, order, &[])
}

/// A cell that leads somewhere: in each row, the cell of `figure` links to `href(row)`
/// (no link when it gives `None`).
pub(super) struct Link<'a> {
    pub figure: Figure,
    pub href: &'a dyn Fn(usize) -> Option<String>,
}

/// [`report_table`] whose cells of the `links`' figures lead to their pages (the
/// drill-down: a community row to its community, a cadre row to its cadre).
pub(super) fn linked_table(report: &Report, figures: &[Figure], order: Option<&[usize]>, links: &[Link<'_>]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for f in figures {
        let _ = write!(out, "<th>{}</th>", escape(&data::header(report, *f)));
    }
    out.push_str("</tr></thead><tbody>");
    let all: Vec<usize> = (0..data::rows(report)).collect();
    for &row in order.unwrap_or(&all) {
        out.push_str("<tr>");
        for f in figures {
            let numeric = report
                .columns
                .iter()
                .find(|c| c.key == f.key())
                .is_some_and(|c| !matches!(c.kind, ColumnKind::Key | ColumnKind::Text | ColumnKind::Grade));
            let class = if numeric { " class=\"num\"" } else { "" };
            let text = escape(&data::shown(report, *f, row));
            match links.iter().find(|l| l.figure == *f).and_then(|l| (l.href)(row)) {
                Some(href) => {
                    let _ = write!(out, "<td{class}><a href=\"{}\">{text}</a></td>", escape(&href));
                }
                None => {
                    let _ = write!(out, "<td{class}>{text}</td>");
                }
            }
        }
        out.push_str("</tr>");
    }
    if data::rows(report) == 0 {
        let _ = write!(out, "<tr><td colspan=\"{}\">本期没有数据</td></tr>", figures.len());
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A plain text table.
pub(super) fn text_table(table: &super::TextTable) -> String {
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in &table.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for (r, row) in table.rows.iter().enumerate() {
        match table.row_ids.get(r) {
            Some(id) => {
                let _ = write!(out, "<tr id=\"{}\">", escape(id));
            }
            None => out.push_str("<tr>"),
        }
        for (c, cell) in row.iter().enumerate() {
            match table.links.get(r).and_then(|l| l.get(c)).and_then(Option::as_ref) {
                Some(href) => {
                    let _ = write!(out, "<td><a href=\"{}\">{}</a></td>", escape(href), escape(cell));
                }
                None => {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
            }
        }
        out.push_str("</tr>");
    }
    if table.rows.is_empty() {
        let _ = write!(out, "<tr><td colspan=\"{}\">没有记录</td></tr>", table.headers.len().max(1));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A headline card: the value, its label and its change from the period before.
pub(super) fn card(label: &str, value: &str, change: &str) -> String {
    let class = match change.chars().next() {
        Some('↑') => "up",
        Some('↓') => "down",
        _ => "flat",
    };
    format!(
        "<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">{}</div><div class=\"d {class}\">{}</div></div>",
        escape(value),
        escape(label),
        escape(change)
    )
}
