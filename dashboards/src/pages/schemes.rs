//! The 评分方案 page (`/schemes`): a county's scheme versions, the upload form, one
//! version's TOML and its differences from the contract's default (字段, 默认值, 本县值).

use std::fmt::Write;

use warehouse::scheme::FieldDiff;

use super::html::{escape, frame};
use super::{Page, Place};

/// One stored version, as the list shows it.
#[derive(Debug, Clone, Default)]
pub struct SchemeLine {
    pub version: i64,
    pub name: String,
    pub hash: String,
    pub in_force_from: String,
    pub uploaded_by: String,
    /// Beijing time.
    pub uploaded_at: String,
    /// The version in force today.
    pub in_force: bool,
}

/// What the page shows.
#[derive(Debug, Clone, Default)]
pub struct SchemesView {
    /// The county shown (code, name); none: a platform account has not chosen one.
    pub county: Option<(String, String)>,
    /// The counties a platform account may choose from.
    pub counties: Vec<Place>,
    pub versions: Vec<SchemeLine>,
    /// The version opened: its line, TOML text and differences from the default.
    pub shown: Option<(SchemeLine, String, Vec<FieldDiff>)>,
    /// A county or platform account (a community account only views).
    pub can_upload: bool,
    /// The upload's outcome: (succeeded, message).
    pub message: Option<(bool, String)>,
}

/// The whole page.
pub fn schemes(page: &Page, view: &SchemesView) -> String {
    let mut out = String::new();
    if let Some((ok, message)) = &view.message {
        let class = if *ok { "ok" } else { "alert" };
        let _ = write!(out, "<p class=\"{class}\" id=\"scheme-message\">{}</p>", escape(message));
    }
    let Some((code, name)) = &view.county else {
        out.push_str(&choose_county(&view.counties));
        return frame(page, &out);
    };
    let _ = write!(out, "<h3 class=\"entity\">{}（{}）的评分方案</h3>", escape(name), escape(code));
    out.push_str(&versions(code, &view.versions));
    if let Some((line, toml, diff)) = &view.shown {
        out.push_str(&shown(line, toml, diff));
    }
    if view.can_upload {
        out.push_str(&upload_form(code));
    }
    frame(page, &out)
}

fn choose_county(counties: &[Place]) -> String {
    let mut links = String::new();
    for c in counties {
        let _ = write!(
            links,
            "<li><a href=\"/schemes?county={}\">{}（{}）</a></li>",
            escape(&c.code),
            escape(&c.name),
            escape(&c.code)
        );
    }
    format!("<section class=\"box\" id=\"scheme-counties\"><h3>选择县区</h3><ul>{links}</ul></section>")
}

fn versions(county: &str, lines: &[SchemeLine]) -> String {
    if lines.is_empty() {
        return "<section class=\"box\" id=\"scheme-versions\"><p class=\"note\">本县区还没有上传评分方案：\
                所有报表按数据契约的默认方案计算。</p></section>"
            .to_string();
    }
    let mut rows = String::new();
    for l in lines {
        let _ = write!(
            rows,
            "<tr><td class=\"num\"><a href=\"/schemes?county={}&amp;version={}\">第{}版</a></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(county),
            l.version,
            l.version,
            escape(&l.name),
            escape(&l.in_force_from),
            if l.in_force { "现行" } else { "" },
            escape(&l.uploaded_by),
            escape(&l.uploaded_at),
            escape(l.hash.get(..12).unwrap_or(&l.hash)),
        );
    }
    format!(
        "<section class=\"box\" id=\"scheme-versions\"><h3>各版方案</h3><div class=\"scroll\"><table><thead><tr>\
         <th>版本</th><th>名称</th><th>生效日期</th><th>状态</th><th>上传人</th><th>上传时间（北京时间）</th><th>哈希</th>\
         </tr></thead><tbody>{rows}</tbody></table></div>\
         <p class=\"note\">报表期末在生效日期及以后的，用生效中最新的一版；没有方案的期间按数据契约的默认方案计算。</p></section>"
    )
}

fn shown(line: &SchemeLine, toml: &str, diff: &[FieldDiff]) -> String {
    let mut rows = String::new();
    for d in diff {
        let _ = write!(
            rows,
            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&d.field),
            escape(&d.default),
            escape(&d.county)
        );
    }
    let table = if diff.is_empty() {
        "<p class=\"note\">与数据契约的默认方案完全相同。</p>".to_string()
    } else {
        format!(
            "<table id=\"scheme-diff\"><thead><tr><th>字段</th><th>默认值</th><th>本县值</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    format!(
        "<section class=\"box\" id=\"scheme-shown\"><h3>第{}版“{}”与默认方案的差异</h3>{table}\
         <details><summary>方案原文（TOML）</summary><pre>{}</pre></details></section>",
        line.version,
        escape(&line.name),
        escape(toml)
    )
}

fn upload_form(county: &str) -> String {
    format!(
        "<section class=\"box\" id=\"scheme-upload\"><h3>上传新的一版</h3>\
         <form method=\"post\" action=\"/schemes?county={}\">\
         <p><label>生效日期 <input type=\"date\" name=\"in_force_from\"></label> \
         <span class=\"note\">不填则从今天起生效</span></p>\
         <p><label>方案（TOML，只写与默认不同的项即可，例如 <code>[grades]</code> 下一行 <code>excellent_score = 95</code>）<br>\
         <textarea name=\"toml\" rows=\"14\" cols=\"70\" required></textarea></label></p>\
         <p><button type=\"submit\">上传</button></p></form></section>",
        escape(county)
    )
}
