//! The pages: login, overview, quarterly review, cadre assessment, county comparison,
//! community, upload, and an error page.

use std::fmt::Write;

use ingest::schema::STATUS;
use warehouse::analyses::lists::CommunityList;
use warehouse::analyses::{Figure, Report};

use super::data::{self, Headline, percent};
use super::html::{
    Link, card, chart, document, escape, frame, linked_table, report_table, table_downloads, text_table,
};
use super::{BatchLine, Evidence, Page, TableStatus, TextTable, UploadError, UploadPreview, UploadResult};

/// The login form; `error` is shown above it, `next` is where to go after.
pub fn login(error: Option<&str>, next: &str, username: &str) -> String {
    let alert = error.map(|e| format!("<p class=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<div class=\"login\"><h2>议事 · 登录</h2>{alert}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>用户名<input name=\"username\" id=\"username\" autocomplete=\"username\" value=\"{}\" required autofocus></label>\
         <label>密码<input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"login\">登录</button></form>\
         <p class=\"note\">账号由管理员用 <code>yishi user add</code> 创建。</p></div>",
        escape(next),
        escape(username)
    );
    document("登录", &body)
}

/// An error page (inside the frame when the user is known).
pub fn error(page: Option<&Page>, message: &str) -> String {
    let content = format!("<p class=\"alert\">{}</p>", escape(message));
    match page {
        Some(p) => frame(p, &content),
        None => document("出错了", &format!("<main>{content}<p><a href=\"/\">返回首页</a></p></main>")),
    }
}

/// A headline card's figure: its label, its value in a headline and how its change reads.
type CardFigure = (&'static str, fn(&Headline) -> Option<f64>, warehouse::analyses::Measure);

/// The headline cards of `now`, each with its change from `before` (环比: the quarter
/// or year before; "—" without one); with `communities`, the number of communities first.
fn headline_cards(now: &Headline, before: Option<&Headline>, communities: bool, filters: &super::Filters) -> String {
    use warehouse::analyses::Measure;
    let word = if filters.quarter.is_some() { "较上季" } else { "较上年" };
    let figures: [CardFigure; 6] = [
        ("社区", |h| Some(h.communities as f64), Measure::Count),
        ("议事会议（次）", |h| Some(h.sessions), Measure::Count),
        ("议题（件）", |h| Some(h.topics), Measure::Count),
        (Figure::CompletionRate.chinese(), |h| h.completion_rate, Measure::Rate),
        (Figure::SatisfactionRate.chinese(), |h| h.satisfaction_rate, Measure::Rate),
        (Figure::SatisfactionIndex.chinese(), |h| h.satisfaction_index, Measure::Score),
    ];
    let shown = if communities { &figures[..] } else { &figures[1..5] };
    let mut out = format!("<div class=\"cards n{}\" id=\"headline\">", shown.len());
    for (label, value, measure) in shown {
        let v = value(now);
        let text = match measure {
            Measure::Rate => percent(v),
            Measure::Count => v.map_or_else(|| "—".into(), |v| format!("{v:.0}")),
            _ => v.map_or_else(|| "—".into(), |v| format!("{v:.1}")),
        };
        let before = before.filter(|b| b.communities > 0).and_then(value);
        out.push_str(&card(label, &text, &format!("{word} {}", data::change(v, before, *measure))));
    }
    out.push_str("</div>");
    out
}

/// The headline figures (each with its change from the period before, from `previous`,
/// the quarterly report of the quarter or year before), the ranking of the caller's
/// scope, the period's overdue list and hot topics.
/// `more`: further sections at the end (the joint units, `units_section`).
pub fn overview(
    page: &Page,
    quarterly: &Report,
    previous: Option<&Report>,
    communities: &Report,
    (overdue, hot): (&Report, &Report),
    more: &str,
) -> String {
    let f = &page.filters;
    let h = Headline::of(quarterly);
    let before = previous.map(Headline::of);
    let mut out = headline_cards(&h, before.as_ref(), true, f);
    let _ = write!(
        out,
        "<p class=\"note\">{}：{} 个社区召开议事会议 {:.0} 次，收集议题 {:.0} 件，办结 {:.0} 件，办结率 {}；收到评价 {:.0} 条，满意率 {}。</p>",
        escape(&f.period()),
        h.communities,
        h.sessions,
        h.topics,
        h.closed,
        percent(h.completion_rate),
        h.evaluations,
        percent(h.satisfaction_rate)
    );
    let ranking_f = super::Filters { quarter: None, ..f.clone() };
    let _ = write!(
        out,
        "<div class=\"grid2\"><section class=\"box\">{}\
         <p class=\"note no-print\"><a href=\"#ranking-table\" id=\"to-ranking\">逐个社区查看：见下方排名表，点社区名进入</a></p>\
         </section><section class=\"box\">{}</section></div>",
        chart("community_ranking", &format!("{}年社区综合得分排名", f.year), "communities", &ranking_f),
        chart("satisfaction_trend", &format!("{}年满意度趋势", f.year), "quarterly", &ranking_f),
    );
    let mut order: Vec<usize> = (0..data::rows(communities)).collect();
    let ranks = data::numbers(communities, Figure::RankOverall);
    order.sort_by(|a, b| ranks[*a].unwrap_or(f64::MAX).total_cmp(&ranks[*b].unwrap_or(f64::MAX)));
    let _ = write!(
        out,
        "<section class=\"box\" id=\"ranking-table\"><h3>{}年社区排名</h3>{}{}</section>",
        f.year,
        table_downloads("communities", &ranking_f),
        linked_table(
            communities,
            &[
                Figure::RankOverall,
                Figure::RankInCounty,
                Figure::CountyName,
                Figure::CommunityName,
                Figure::CommunityScore,
                Figure::CompletionRate,
                Figure::SatisfactionIndex,
                Figure::RectificationRate,
                Figure::SessionRate
            ],
            Some(&order),
            &[Link { figure: Figure::CommunityName, href: &community_links(communities, f) }]
        )
    );
    out.push_str(&super::overdue::section(f, overdue));
    out.push_str(&super::hot::section(f, hot));
    out.push_str(more);
    frame(page, &out)
}

/// Each row's community page (a report with community codes), for the period of `f`.
fn community_links<'a>(report: &'a Report, f: &'a super::Filters) -> impl Fn(usize) -> Option<String> + 'a {
    let codes = data::texts(report, Figure::CommunityCode);
    move |row| codes.get(row).filter(|c| !c.is_empty()).map(|c| f.community_href(c))
}

/// Each row's cadre page (a cadres report), for the year of `f`.
fn cadre_links<'a>(report: &'a Report, f: &'a super::Filters) -> impl Fn(usize) -> Option<String> + 'a {
    let codes = data::texts(report, Figure::CommunityCode);
    let ids = data::texts(report, Figure::CadreId);
    move |row| Some(f.cadre_href(codes.get(row)?, ids.get(row).filter(|i| !i.is_empty())?))
}

/// Trend, dimensions, category and channel mix, quality flags, quarter-over-quarter change.
pub fn quarterly(page: &Page, quarterly: &Report) -> String {
    let f = &page.filters;
    let year_f = super::Filters { quarter: None, ..f.clone() };
    let mut out = String::new();
    let _ = write!(
        out,
        "<div class=\"grid2\">\
         <section class=\"box\">{}</section><section class=\"box\">{}</section>\
         <section class=\"box\">{}</section><section class=\"box\">{}</section>\
         <section class=\"box\">{}</section><section class=\"box\">{}</section></div>",
        chart("satisfaction_trend", &format!("{}年满意度趋势", f.year), "quarterly", &year_f),
        chart("dimensions", &format!("{} 评价四个维度", f.period()), "quarterly", f),
        chart("topics_by_category", &format!("{} 议题类别构成", f.period()), "quarterly_by_category", f),
        chart("topics_by_channel", &format!("{} 来源渠道构成", f.period()), "quarterly_by_channel", f),
        chart("rates_by_community", &format!("{} 各社区办结率、按时办结率、公示率", f.period()), "communities", f),
        chart("satisfaction_heatmap", &format!("{}年社区 × 季度满意度指数", f.year), "quarterly", &year_f),
    );
    let flags = data::texts(quarterly, Figure::QualityFlags);
    let flagged: Vec<usize> = (0..flags.len()).filter(|i| !flags[*i].trim().is_empty()).collect();
    let _ = write!(
        out,
        "<section class=\"box\" id=\"quality\"><h3>数据质量提示（{} 条）</h3>{}</section>",
        flagged.len(),
        if flagged.is_empty() {
            "<p class=\"note\">本期没有数据质量提示。</p>".to_string()
        } else {
            report_table(
                quarterly,
                &[Figure::CommunityName, Figure::Quarter, Figure::QualityFlagsLabel],
                Some(&flagged),
            )
        }
    );
    let _ = write!(
        out,
        "<section class=\"box\" id=\"quarterly-table\"><h3>{} 各社区指标及环比</h3>{}{}</section>",
        escape(&f.period()),
        table_downloads("quarterly", f),
        report_table(
            quarterly,
            &[
                Figure::CommunityName,
                Figure::Quarter,
                Figure::SessionsHeld,
                Figure::TopicsRaised,
                Figure::CompletionRate,
                Figure::CompletionRateChange,
                Figure::OnTimeRate,
                Figure::Evaluations,
                Figure::SatisfactionRate,
                Figure::SatisfactionRateChange,
                Figure::SatisfactionIndex,
                Figure::SatisfactionIndexChange,
                Figure::RectificationRate,
            ],
            None
        )
    );
    frame(page, &out)
}

/// A cadre's score and what it is made of, as the cadres table and a cadre's page show them.
const SCORE_COMPONENTS: [Figure; 6] = [
    Figure::Topics,
    Figure::CompletionRate,
    Figure::OnTimeRate,
    Figure::SatisfactionIndex,
    Figure::RectificationRate,
    Figure::CadreScore,
];

/// Scores, grades, the quota line, each cadre's evidence.
pub fn cadres(page: &Page, cadres: &Report, evidence: &[Evidence], quota_note: &str) -> String {
    let f = &page.filters;
    let year_f = super::Filters { quarter: None, ..f.clone() };
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"box\">{}<p class=\"note\">{}</p></section>",
        chart("cadre_scores", &format!("{}年干部考核得分", f.year), "cadres", &year_f),
        escape(quota_note)
    );
    let mut order: Vec<usize> = (0..data::rows(cadres)).collect();
    let scores = data::numbers(cadres, Figure::CadreScore);
    order.sort_by(|a, b| scores[*b].unwrap_or(f64::MIN).total_cmp(&scores[*a].unwrap_or(f64::MIN)));
    let _ = write!(
        out,
        "<section class=\"box\" id=\"cadres-table\"><h3>{}年干部得分与等级</h3>{}{}</section>",
        f.year,
        table_downloads("cadres", &year_f),
        linked_table(
            cadres,
            &[
                &[Figure::RankInCounty, Figure::CommunityName, Figure::CadreName][..],
                &SCORE_COMPONENTS,
                &[Figure::GradeChinese],
            ]
            .concat(),
            Some(&order),
            &[
                Link { figure: Figure::CadreName, href: &cadre_links(cadres, f) },
                Link { figure: Figure::CommunityName, href: &community_links(cadres, &year_f) },
            ]
        )
    );
    out.push_str("<section class=\"box\" id=\"evidence\"><h3>考核依据：每位干部负责的议题及评价</h3>");
    let ids = data::texts(cadres, Figure::CadreId);
    let names = data::texts(cadres, Figure::CadreName);
    let communities = data::texts(cadres, Figure::CommunityCode);
    for &row in &order {
        let topics: Vec<&Evidence> =
            evidence.iter().filter(|e| e.cadre_id == ids[row] && e.community_code == communities[row]).collect();
        let _ = write!(
            out,
            "<details><summary>{}（{}）：{} 个议题，得分 {}，{}</summary>",
            escape(&names[row]),
            escape(&data::shown(cadres, Figure::CommunityName, row)),
            topics.len(),
            escape(&data::shown(cadres, Figure::CadreScore, row)),
            escape(&data::shown(cadres, Figure::GradeChinese, row))
        );
        let table = TextTable {
            headers: ["议题编号", "议题", "状态", "评价数", "满意数", "四维均分"].map(String::from).to_vec(),
            rows: topics
                .iter()
                .map(|e| {
                    vec![
                        e.topic_id.clone(),
                        e.title.clone(),
                        STATUS.chinese(&e.status).unwrap_or(&e.status).to_string(),
                        e.evaluations.to_string(),
                        e.satisfied.to_string(),
                        e.mean_rating.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into()),
                    ]
                })
                .collect(),
            links: topics.iter().map(|e| vec![None, Some(f.topic_href(&e.community_code, &e.topic_id))]).collect(),
            row_ids: Vec::new(),
        };
        out.push_str(&text_table(&table));
        out.push_str("</details>");
    }
    out.push_str("</section>");
    frame(page, &out)
}

/// Ranking, heatmap, the red and black lists.
pub fn counties(page: &Page, counties: &Report, communities: &Report) -> String {
    let f = &page.filters;
    let year_f = super::Filters { quarter: None, ..f.clone() };
    let mut out = String::new();
    let _ = write!(
        out,
        "<div class=\"grid2\"><section class=\"box\">{}</section><section class=\"box\">{}</section></div>",
        chart("community_ranking", &format!("{}年社区综合得分排名（红榜、黑榜）", f.year), "communities", &year_f),
        chart("satisfaction_heatmap", &format!("{}年社区 × 季度满意度指数", f.year), "quarterly", &year_f),
    );
    let _ = write!(
        out,
        "<section class=\"box\" id=\"counties-table\"><h3>{}年县区汇总</h3>{}{}</section>",
        f.year,
        table_downloads("counties", &year_f),
        report_table(
            counties,
            &[
                Figure::CountyName,
                Figure::Communities,
                Figure::SessionsHeld,
                Figure::TopicsRaised,
                Figure::CompletionRate,
                Figure::AvgScore,
                Figure::AvgSatisfactionIndex,
                Figure::Summary
            ],
            None
        )
    );
    let links = community_links(communities, &year_f);
    let lists = red_and_black(communities);
    let keys = [
        Figure::CountyName,
        Figure::CommunityName,
        Figure::CommunityScore,
        Figure::RankInCounty,
        Figure::RankOverall,
        Figure::CountyAvgScore,
    ];
    let list = |rows: &[usize]| {
        linked_table(communities, &keys, Some(rows), &[Link { figure: Figure::CommunityName, href: &links }])
    };
    let names = data::texts(communities, Figure::CommunityName);
    let unranked: Vec<&str> = lists.unranked.iter().map(|&i| names[i].as_str()).collect();
    let note = if unranked.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"note\" id=\"unranked\">{}：{}</p>",
            CommunityList::Unranked.chinese(),
            escape(&unranked.join("、"))
        )
    };
    let _ = write!(
        out,
        "<div class=\"grid2\"><section class=\"box\" id=\"red-list\"><h3>{}</h3>{}</section>\
         <section class=\"box\" id=\"black-list\"><h3>{}</h3>{}</section></div>\
         <p class=\"note\">{}</p>{note}{}",
        CommunityList::Red.chinese(),
        list(&lists.red),
        CommunityList::Black.chinese(),
        list(&lists.black),
        escape(Figure::ListLabel.definition()),
        chart("rates_by_community", &format!("{}年各社区办结率、按时办结率、公示率", f.year), "communities", &year_f),
    );
    frame(page, &out)
}

/// One community: its name, quarterly rows and those of the period before (for the
/// cards' changes), sessions and topics.
pub type CommunityView<'a> = (&'a str, &'a Report, Option<&'a Report>, &'a TextTable, &'a TextTable);

/// One community: its quarters, sessions and topics, and the period's overdue list.
/// `more`: further sections (the deliberation reports, `community_sections`), after the
/// headline table and before the ledger lists.
pub fn community(
    page: &Page,
    (name, quarterly, previous, sessions, topics): CommunityView<'_>,
    more: &str,
    overdue: &Report,
) -> String {
    let f = &page.filters;
    let before = previous.map(Headline::of);
    let mut out = format!("<h3 class=\"entity\">{}</h3>", escape(name));
    out.push_str(&headline_cards(&Headline::of(quarterly), before.as_ref(), false, f));
    let year_f = super::Filters { quarter: None, ..f.clone() };
    let _ = write!(
        out,
        "<div class=\"grid2\"><section class=\"box\">{}</section><section class=\"box\">{}</section></div>",
        chart("satisfaction_trend", &format!("{}年满意度趋势", f.year), "quarterly", &year_f),
        chart("dimensions", &format!("{} 评价四个维度", f.period()), "quarterly", f),
    );
    let _ = write!(
        out,
        "<section class=\"box\"><h3>各季度指标</h3>{}{}</section>",
        table_downloads("quarterly", f),
        report_table(
            quarterly,
            &[
                Figure::Quarter,
                Figure::SessionsHeld,
                Figure::TopicsRaised,
                Figure::TopicsClosed,
                Figure::CompletionRate,
                Figure::SatisfactionRate,
                Figure::SatisfactionIndex,
                Figure::QualityFlagsLabel
            ],
            None
        )
    );
    out.push_str(more);
    let _ = write!(
        out,
        "<section class=\"box\" id=\"sessions\"><h3>议事会议（{} 次）</h3>{}</section>\
         <section class=\"box\" id=\"topics\"><h3>议题（{} 件）</h3>{}</section>",
        sessions.rows.len(),
        text_table(sessions),
        topics.rows.len(),
        text_table(topics)
    );
    out.push_str(&super::overdue::section(f, overdue));
    frame(page, &out)
}

/// The upload form and, after an upload, its result with the row errors.
pub fn upload(page: &Page, tables: &[TableStatus], result: Option<&UploadResult>) -> String {
    let mut out = String::new();
    if let Some(r) = result {
        let class = if r.outcome == "committed" || r.outcome == "unchanged" { "ok" } else { "alert" };
        let _ = write!(
            out,
            "<div class=\"{class}\" id=\"upload-result\"><p><b>{}</b>（{}）：{}</p><p>合格 {} 行，不合格 {} 行。</p>",
            escape(&r.file_name),
            escape(&r.table),
            escape(&r.message),
            r.rows_accepted,
            r.rows_rejected
        );
        if let Some(url) = &r.rejects_url {
            let _ = write!(
                out,
                "<p><a class=\"button\" download href=\"{}\">下载不合格的行（CSV，改正后重新上传）</a></p>",
                escape(url)
            );
        }
        out.push_str("</div>");
        out.push_str(&row_errors(&r.errors));
    }
    let mut options = String::new();
    for t in tables {
        let name = t.table.name();
        let sel = if result.is_some_and(|r| r.table == name) { " selected" } else { "" };
        let _ = write!(options, "<option value=\"{name}\"{sel}>{} {name}</option>", escape(t.table.chinese()));
    }
    let _ = write!(
        out,
        "<section class=\"box\"><form method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\" id=\"upload-form\">\
         <p><label>台账表 <select name=\"table\">{options}</select></label></p>\
         <p><label>文件（CSV、XLSX 或 JSON lines）<input type=\"file\" name=\"file\" required></label></p>\
         <p><label>表头行号 <input type=\"number\" name=\"header_row\" min=\"1\" max=\"1000\" placeholder=\"自动识别\"></label> \
         <span class=\"note\">不填时自动跳过标题、填报单位和空行；识别不对时填表头所在的行号</span></p>\
         <p><label><input type=\"checkbox\" name=\"partial\" value=\"true\"> 只导入合格的行：合格的行先写入，不合格的行可下载，改好后再上传（不勾选时，只要有一行不合格，整个文件都不写入）</label></p>\
         <p><button type=\"submit\">上传并预览</button></p></form>\
         <p class=\"note\">上传后先显示预览：新增、更新（列出变化的字段）、不变、不合格各多少行；点“确认写入”后才写入。\
         默认整批检查：有任何不合格的行就整批不写入，并列出每一处问题。同一个文件重复上传不会重复写入。\
         <a href=\"/upload/history\" id=\"history-link\">查看上传记录</a></p></section>"
    );
    out.push_str(&templates(tables));
    frame(page, &out)
}

/// The table of an upload's rejected values, with the row numbers Excel shows.
fn row_errors(errors: &[UploadError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section class=\"box\"><h3>不合格的行（{} 处）</h3><p class=\"note\">行号与 Excel 中看到的一致（表头为第 1 行）。</p>\
         <div class=\"scroll\"><table id=\"row-errors\"><thead><tr><th>行号</th><th>列</th><th>填写的值</th><th>问题及改法</th></tr></thead><tbody>",
        errors.len()
    );
    for e in errors {
        let column = if e.header.is_empty() { e.column.clone() } else { format!("{}（{}）", e.header, e.column) };
        let _ = write!(
            out,
            "<tr class=\"bad\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.row,
            escape(&column),
            escape(&e.value),
            escape(&e.message)
        );
    }
    out.push_str("</tbody></table></div></section>");
    out
}

/// The upload page after a file was chosen: what it would do, and a button to write it.
pub fn upload_preview(page: &Page, preview: &UploadPreview) -> String {
    let mut out = format!(
        "<div class=\"ok\" id=\"upload-preview\"><p><b>{}</b>（{}）预览，尚未写入：</p><p id=\"preview-summary\">{}</p>",
        escape(&preview.file_name),
        escape(&preview.table),
        escape(&preview.summary)
    );
    if !preview.changes.is_empty() {
        let more = if preview.more_changes { "（仅列出前几条）" } else { "" };
        let _ = write!(out, "<p>将更新的行{more}：</p><ul id=\"preview-changes\">");
        for change in &preview.changes {
            let _ = write!(out, "<li>{}</li>", escape(change));
        }
        out.push_str("</ul>");
    }
    match &preview.hold {
        Some(id) => {
            let _ = write!(
                out,
                "<form method=\"post\" action=\"/upload/confirm\" id=\"confirm-form\">\
                 <input type=\"hidden\" name=\"hold\" value=\"{}\">\
                 <button type=\"submit\" id=\"confirm\">确认写入</button> <a href=\"/upload\">取消，重新选择文件</a></form>\
                 <p class=\"note\">文件在服务器上保留 15 分钟，过期请重新上传。</p>",
                escape(id)
            );
        }
        None => out.push_str("<p><a href=\"/upload\">重新选择文件</a></p>"),
    }
    out.push_str("</div>");
    out.push_str(&row_errors(&preview.errors));
    frame(page, &out)
}

/// The tables in the order they are filled in: rows held now, the last upload, the
/// required and optional columns, and the template downloads.
fn templates(tables: &[TableStatus]) -> String {
    let mut items = String::new();
    for t in tables {
        let name = t.table.name();
        let columns = |required: bool| {
            let names: Vec<&str> =
                t.table.columns().iter().filter(|c| c.required == required).map(|c| c.chinese()).collect();
            if names.is_empty() { "无".to_string() } else { names.join("、") }
        };
        let last = t.last_upload.as_deref().map(|l| format!("最近上传：{l}")).unwrap_or_else(|| "尚未上传".into());
        let _ = write!(
            items,
            "<li id=\"status-{name}\"><b>{}</b>：现有 {} 行，{}。\
             <a class=\"button\" download href=\"/api/v1/templates/{name}.xlsx\" id=\"template-{name}\">Excel 模板</a> \
             <a download href=\"/api/v1/templates/{name}.csv\">CSV 表头</a>\
             <details><summary>列说明</summary><p>必填列：{}</p><p>选填列：{}</p></details></li>",
            escape(t.table.chinese()),
            t.rows,
            escape(&last),
            escape(&columns(true)),
            escape(&columns(false)),
        );
    }
    format!(
        "<section class=\"box\" id=\"templates\"><h3>导入顺序与模板</h3>\
         <p class=\"note\">按下面的顺序填写和上传（后面的表引用前面表中的编号）。Excel 模板带中文表头、下拉选项和填写说明，红色表头为必填列。</p>\
         <ol>{items}</ol></section>"
    )
}

/// The uploads of the caller's scope, newest first.
pub fn upload_history(page: &Page, batches: &[BatchLine]) -> String {
    let mut rows = String::new();
    for b in batches {
        let rejects = match &b.rejects_url {
            Some(url) => format!("<a download href=\"{}\">下载</a>", escape(url)),
            None => "—".into(),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{rejects}</td></tr>",
            escape(&b.at),
            escape(&b.actor),
            escape(&b.table),
            escape(&b.file_name),
            escape(&b.outcome),
            b.inserted,
            b.updated,
            b.unchanged,
            b.rejected,
        );
    }
    let body = if batches.is_empty() {
        "<p class=\"note\">本范围内还没有通过网页或接口上传的文件。</p>".to_string()
    } else {
        format!(
            "<div class=\"scroll\"><table id=\"history\"><thead><tr><th>时间（北京时间）</th><th>上传人</th><th>表</th><th>文件</th>\
             <th>结果</th><th>新增</th><th>更新</th><th>不变</th><th>不合格</th><th>不合格的行</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    let out = format!(
        "<section class=\"box\"><h3>上传记录（最近 {} 次）</h3>{body}<p><a href=\"/upload\">返回上传台账</a></p></section>",
        batches.len()
    );
    frame(page, &out)
}

/// The community page without a selection: the communities of the scope (of the county
/// chosen, if one is) with their figures of the period (from the quarterly rows of
/// `quarterly`) and their score and rank of the year (`communities`), each a link to its
/// page.
pub fn community_list(page: &Page, quarterly: &Report, communities: &Report) -> String {
    let f = &page.filters;
    let year_codes = data::texts(communities, Figure::CommunityCode);
    let quarter_codes = data::texts(quarterly, Figure::CommunityCode);
    let county_name = |code: &str| page.options.counties.iter().find(|c| c.code == code).map(|c| c.name.clone());
    let score = format!("{}年{}", f.year, Figure::CommunityScore.chinese());
    let mut table = TextTable {
        headers: vec![
            Figure::CountyName.chinese().to_string(),
            Figure::CommunityName.chinese().to_string(),
            Figure::TopicsRaised.chinese().to_string(),
            Figure::CompletionRate.chinese().to_string(),
            Figure::OnTimeRate.chinese().to_string(),
            Figure::SatisfactionRate.chinese().to_string(),
            Figure::SatisfactionIndex.chinese().to_string(),
            score,
            Figure::RankInCounty.chinese().to_string(),
        ],
        ..TextTable::default()
    };
    let listed = page.options.communities.iter().filter(|c| f.county.as_deref().is_none_or(|k| c.county_code == k));
    for place in listed {
        let rows: Vec<usize> = (0..quarter_codes.len()).filter(|r| quarter_codes[*r] == place.code).collect();
        let h = Headline::of_rows(quarterly, &rows);
        let year_row = year_codes.iter().position(|c| *c == place.code);
        let annual = |figure| year_row.map_or_else(|| "—".to_string(), |r| data::shown(communities, figure, r));
        table.rows.push(vec![
            county_name(&place.county_code).unwrap_or_else(|| place.county_code.clone()),
            place.name.clone(),
            format!("{:.0}", h.topics),
            percent(h.completion_rate),
            percent(h.on_time_rate),
            percent(h.satisfaction_rate),
            h.satisfaction_index.map_or_else(|| "—".into(), |v| format!("{v:.2}")),
            annual(Figure::CommunityScore),
            annual(Figure::RankInCounty),
        ]);
        table.links.push(vec![None, Some(f.community_href(&place.code))]);
    }
    let out = format!(
        "<section class=\"box\" id=\"community-list\"><h3>{} 各社区（{} 个）：点社区名查看详情</h3>{}</section>",
        escape(&f.period()),
        table.rows.len(),
        text_table(&table)
    );
    frame(page, &out)
}

/// What the cadre page shows: the cadre's row of its community's cadres report, the
/// county's cadres report (for the average of its rated cadres) and the cadre's topics,
/// their evaluations (never who gave them) and rectifications.
#[derive(Debug)]
pub struct CadreView<'a> {
    pub cadres: &'a Report,
    pub row: usize,
    pub county: &'a Report,
    pub topics: &'a TextTable,
    pub evaluations: &'a TextTable,
    pub rectifications: &'a TextTable,
}

/// One cadre: name, community, year; score components beside the county's average of
/// rated cadres; topics, evaluations, rectifications.
pub fn cadre(page: &Page, v: &CadreView<'_>) -> String {
    let shown = |figure| data::shown(v.cadres, figure, v.row);
    let mut out = format!(
        "<h3 class=\"entity\">{}（{}，{}年）</h3>",
        escape(&shown(Figure::CadreName)),
        escape(&shown(Figure::CommunityName)),
        escape(&shown(Figure::Year))
    );
    let mut components = TextTable {
        headers: ["指标", "本人", "全县参评干部平均"].map(String::from).to_vec(),
        ..TextTable::default()
    };
    let rated = data::numbers(v.county, Figure::Rated);
    let rated_rows: Vec<usize> = (0..rated.len()).filter(|r| rated[*r] == Some(1.0)).collect();
    for figure in SCORE_COMPONENTS {
        let values = data::numbers(v.county, figure);
        let known: Vec<f64> = rated_rows.iter().filter_map(|r| values[*r]).collect();
        let mean = (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64);
        let kind = v.cadres.columns.iter().find(|c| c.key == figure.key()).map_or(figure.column().kind, |c| c.kind);
        components.rows.push(vec![figure.chinese().to_string(), shown(figure), data::shown_value(mean, kind)]);
    }
    for figure in [Figure::GradeChinese, Figure::RankInCounty] {
        components.rows.push(vec![figure.chinese().to_string(), shown(figure), String::new()]);
    }
    let _ = write!(
        out,
        "<section class=\"box\" id=\"score\"><h3>考核得分构成（全县参评干部 {} 名）</h3>{}</section>\
         <section class=\"box\" id=\"topics\"><h3>负责的议题（{} 件）</h3>{}</section>\
         <section class=\"box\" id=\"evaluations\"><h3>群众评价（{} 条）</h3>{}</section>\
         <section class=\"box\" id=\"rectifications\"><h3>整改（{} 项）</h3>{}</section>",
        rated_rows.len(),
        text_table(&components),
        v.topics.rows.len(),
        text_table(v.topics),
        v.evaluations.rows.len(),
        text_table(v.evaluations),
        v.rectifications.rows.len(),
        text_table(v.rectifications)
    );
    frame(page, &out)
}

/// A topic's status timeline (处理经过) as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct TopicHistory {
    /// 办理状态, first seen (commit time), data version, file.
    pub table: TextTable,
    /// Older data versions were not read (the scan is bounded).
    pub partial: bool,
}

/// One topic: its row, its evaluations (never who gave them), rectifications and its
/// status timeline from the ledger's re-exports.
pub fn topic(
    page: &Page,
    title: &str,
    topic: &TextTable,
    evaluations: &TextTable,
    rectifications: &TextTable,
    history: &TopicHistory,
) -> String {
    let note = if history.partial {
        format!(
            "<p class=\"note\">只查看了最近 {} 个数据版本，更早的状态变化未列出。</p>",
            warehouse::MAX_HISTORY_VERSIONS
        )
    } else {
        String::new()
    };
    let out = format!(
        "<h3 class=\"entity\">{}</h3><section class=\"box\" id=\"topic\">{}</section>\
         <section class=\"box\" id=\"evaluations\"><h3>群众评价（{} 条）</h3>{}</section>\
         <section class=\"box\" id=\"rectifications\"><h3>整改（{} 项）</h3>{}</section>\
         <section class=\"box\" id=\"history\"><h3>处理经过</h3>\
         <p class=\"note\">每次导入议题台账后，各办理状态首次出现的时间。</p>{}{}</section>",
        escape(title),
        text_table(topic),
        evaluations.rows.len(),
        text_table(evaluations),
        rectifications.rows.len(),
        text_table(rectifications),
        note,
        text_table(&history.table),
    );
    frame(page, &out)
}

/// The rows of the red list (best first), the black list (worst first) and the unranked
/// communities, as the community assessment's `list` column has them.
struct Lists {
    red: Vec<usize>,
    black: Vec<usize>,
    unranked: Vec<usize>,
}

fn red_and_black(communities: &Report) -> Lists {
    let mut order: Vec<usize> = (0..data::rows(communities)).collect();
    let scores = data::numbers(communities, Figure::CommunityScore);
    order.sort_by(|a, b| scores[*b].unwrap_or(f64::MIN).total_cmp(&scores[*a].unwrap_or(f64::MIN)));
    let lists = data::texts(communities, Figure::List);
    let on = |list: CommunityList| -> Vec<usize> {
        order.iter().copied().filter(|&i| CommunityList::parse(&lists[i]) == Some(list)).collect()
    };
    let mut black = on(CommunityList::Black);
    black.reverse();
    Lists { red: on(CommunityList::Red), black, unranked: on(CommunityList::Unranked) }
}
