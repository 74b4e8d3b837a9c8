//! The 书面报告 page (`/documents`): the written reports the caller can have for its scope
//! (each county or community × the latest quarters and years with data), the current
//! period's report to generate, and the downloads (Word, PDF, and a quarter's report pack)
//! from the API, which checks the scope again.

use std::fmt::Write;

use super::Page;
use super::html::{escape, frame};

/// One document that can be generated: a place and a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    /// The place by name ("甲县", "东岭社区").
    pub place: String,
    /// `county=141026` or `community=141026100001`.
    pub place_query: String,
    pub year: i32,
    /// `None`: the year-end report.
    pub quarter: Option<u32>,
}

impl DocumentLine {
    /// "2025年第三季度" or "2025年度".
    pub fn period(&self) -> String {
        match self.quarter {
            Some(q) => format!("{}年第{}季度", self.year, crate::documents::narrative::quarter_chinese(q)),
            None => format!("{}年度", self.year),
        }
    }

    pub fn kind(&self) -> &'static str {
        if self.quarter.is_some() { "季度报告" } else { "年度报告" }
    }

    /// The API's download of the document in `extension` (docx or pdf).
    pub fn href(&self, extension: &str) -> String {
        let mut url = format!("/api/v1/documents/report.{extension}?year={}", self.year);
        if let Some(q) = self.quarter {
            let _ = write!(url, "&quarter={q}");
        }
        let _ = write!(url, "&{}", self.place_query);
        url
    }

    /// The API's download of the quarter's report pack (charts and workbook, one zip);
    /// none for a year.
    pub fn pack_href(&self) -> Option<String> {
        let quarter = self.quarter?;
        Some(format!("/api/v1/packs/pack.zip?year={}&quarter={quarter}&{}", self.year, self.place_query))
    }

    /// The pack's button after the documents', for a quarter.
    fn pack_button(&self, class: &str, id: &str) -> String {
        match self.pack_href() {
            Some(href) => format!(" <a class=\"{class}\"{id} download href=\"{}\">报表包</a>", escape(&href)),
            None => String::new(),
        }
    }
}

/// What the page lists.
#[derive(Debug, Clone, Default)]
pub struct DocumentsView {
    /// The document of the page's filters (its place and period), if it names a place.
    pub current: Option<DocumentLine>,
    /// The documents of every place of the scope, latest first.
    pub lines: Vec<DocumentLine>,
}

/// The 书面报告 page.
pub fn documents(page: &Page, view: &DocumentsView) -> String {
    let mut out = String::new();
    let current = match &view.current {
        Some(line) => format!(
            "<p>《{}{}说事议事工作满意度分析报告》（{}）：生成需要几秒钟。</p>\
             <p><a class=\"button\" id=\"generate-docx\" download href=\"{}\">生成并下载 Word</a> \
             <a class=\"button\" id=\"generate-pdf\" download href=\"{}\">生成并下载 PDF</a>{}</p>",
            escape(&line.place),
            escape(&line.period()),
            line.kind(),
            escape(&line.href("docx")),
            escape(&line.href("pdf")),
            line.pack_button("button", " id=\"generate-pack\""),
        ),
        None => "<p class=\"note\">请在上方选择县区（或社区），再生成本期报告。</p>".to_string(),
    };
    let _ = write!(out, "<section class=\"box\" id=\"current\"><h3>本期报告</h3>{current}</section>");
    let mut rows = String::new();
    for line in &view.lines {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a class=\"button light\" download href=\"{}\">Word</a> \
             <a class=\"button light\" download href=\"{}\">PDF</a>{}</td></tr>",
            escape(&line.place),
            escape(&line.period()),
            line.kind(),
            escape(&line.href("docx")),
            escape(&line.href("pdf")),
            line.pack_button("button light", ""),
        );
    }
    let list = if view.lines.is_empty() {
        "<p class=\"note\">本范围内还没有有数据的季度，导入台账后即可生成报告。</p>".to_string()
    } else {
        format!(
            "<div class=\"scroll\"><table id=\"documents\"><thead><tr><th>范围</th><th>期间</th><th>类型</th>\
             <th>下载</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let _ = write!(
        out,
        "<section class=\"box\"><h3>可生成的报告</h3>{list}<p class=\"note\">报告由数据即时生成：文字、表格、图表和口径附录，\
         与“导出报表包”同一口径；季度还可下载报表包（全部图表和工作簿，一个压缩文件）。命令行：yishi export report --year 年份 \
         [--quarter 季度] --county 县区代码，yishi export pack。</p></section>"
    );
    frame(page, &out)
}
