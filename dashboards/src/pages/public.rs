//! The public 晒 page of one community (`/public/<社区代码>`): what residents may see
//! without logging in — the topics closed in the period with how and when, the period's
//! 办结率、按时办结率、满意率 and 满意度指数, and the next 说事议事日 with the topics set
//! for them. A page of its own: no navigation, no script, no form, nothing personal
//! (never a respondent or a comment; a cadre by role unless the county allows names).

use super::html::escape;

/// One closed topic as residents read it (labels, not tokens).
#[derive(Debug, Clone)]
pub struct PublicTopic {
    pub title: String,
    pub category: String,
    pub handling_mode: String,
    pub raised_on: String,
    pub closed_on: String,
    pub result: String,
    pub on_time: String,
    /// The lead cadre by role (书记), or by name where the county allows it.
    pub lead: String,
}

/// A coming meeting day and the topics set for it.
#[derive(Debug, Clone)]
pub struct MeetingDay {
    pub day: String,
    pub topics: Vec<String>,
}

/// Everything the public page shows.
#[derive(Debug, Clone)]
pub struct PublicPage {
    pub community_name: String,
    pub county_name: String,
    /// 「2025年第1季度」.
    pub period: String,
    /// (figure, value as shown), in the order shown.
    pub figures: Vec<(String, String)>,
    pub closed: Vec<PublicTopic>,
    pub coming: Vec<MeetingDay>,
    /// Links to the other periods with data: (text, query string).
    pub periods: Vec<(String, String)>,
}

/// The page's HTML: one self-contained document with inline styles only.
pub fn render(page: &PublicPage) -> String {
    let title = format!("{}说事议事公示 · {}", page.community_name, page.period);
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str(&format!("<title>{}</title><style>{STYLE}</style></head><body><main>", escape(&title)));
    out.push_str(&format!(
        "<h1>{}</h1><p class=\"sub\">{} · {} · 说事议事“晒”结果</p>",
        escape(&page.community_name),
        escape(&page.county_name),
        escape(&page.period)
    ));
    out.push_str("<section class=\"cards\">");
    for (name, value) in &page.figures {
        out.push_str(&format!("<div><span>{}</span><b>{}</b></div>", escape(name), escape(value)));
    }
    out.push_str("</section>");
    closed_topics(&mut out, &page.closed);
    coming_days(&mut out, &page.coming);
    if !page.periods.is_empty() {
        out.push_str("<nav>其他时期：");
        for (text, query) in &page.periods {
            out.push_str(&format!("<a href=\"?{}\">{}</a> ", escape(query), escape(text)));
        }
        out.push_str("</nav>");
    }
    out.push_str("<footer>本页由社区说事议事台账自动生成，只公示议题办理情况，不含评价人和评价内容。</footer>");
    out.push_str("</main></body></html>");
    out
}

fn closed_topics(out: &mut String, topics: &[PublicTopic]) {
    out.push_str(&format!("<h2>本期办结的议题（{} 件）</h2>", topics.len()));
    if topics.is_empty() {
        out.push_str("<p>本期没有办结的议题。</p>");
        return;
    }
    out.push_str(
        "<div class=\"wrap\"><table><thead><tr><th>议题</th><th>类别</th><th>办理方式</th><th>牵头人</th>\
         <th>提出日期</th><th>办结日期</th><th>结果</th><th>按时办结</th></tr></thead><tbody>",
    );
    for t in topics {
        out.push_str("<tr>");
        for cell in
            [&t.title, &t.category, &t.handling_mode, &t.lead, &t.raised_on, &t.closed_on, &t.result, &t.on_time]
        {
            out.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn coming_days(out: &mut String, days: &[MeetingDay]) {
    out.push_str("<h2>近期说事议事日</h2><ul>");
    for d in days {
        let set = if d.topics.is_empty() {
            "议题征集中，欢迎到社区说事".to_string()
        } else {
            format!("拟议：{}", d.topics.iter().map(|t| escape(t)).collect::<Vec<_>>().join("、"))
        };
        out.push_str(&format!("<li><b>{}</b> {set}</li>", escape(&d.day)));
    }
    out.push_str("</ul>");
}

const STYLE: &str = "body{margin:0;font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"PingFang SC\",sans-serif;\
color:#1f2933;background:#f5f2ea}main{max-width:60rem;margin:0 auto;padding:1rem}h1{color:#b3261e;margin:.5rem 0}\
.sub{color:#52606d}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem}\
.cards div{background:#fff;border-radius:.5rem;padding:.75rem}.cards span{display:block;color:#52606d}\
.cards b{font-size:1.6rem}.wrap{overflow-x:auto}table{border-collapse:collapse;background:#fff;width:100%}\
th,td{border:1px solid #d9d3c7;padding:.35rem .5rem;white-space:nowrap}th{background:#efe9dc}\
footer{color:#7b8794;margin-top:1.5rem;font-size:.85rem}nav a{margin-right:.5rem}";

/// One community on the 公开 settings page.
#[derive(Debug, Clone, Default)]
pub struct PublicityLine {
    pub code: String,
    pub name: String,
    /// Who turned the page on and when (Beijing time), when it is on.
    pub on: Option<(String, String)>,
    pub show_names: bool,
}

/// The 公开 page (`/publicity`): the caller's communities, whether each one's public page
/// is on, and a form to turn it on or off.
pub fn publicity(
    page: &super::Page,
    lines: &[PublicityLine],
    county_wide: bool,
    message: Option<&(bool, String)>,
) -> String {
    let mut out = String::new();
    if let Some((ok, text)) = message {
        let class = if *ok { "ok" } else { "alert" };
        out.push_str(&format!("<p class=\"{class}\" id=\"publicity-message\">{}</p>", escape(text)));
    }
    out.push_str(
        "<p>打开后，居民不登录即可在公示页看到本社区本季度办结的议题、办理方式、办结日期和三率，\
         以及近期说事议事日；不显示评价人和评价内容，干部默认只显示职务。</p>",
    );
    if county_wide {
        // The county-wide switch: every community below at once.
        let on = lines.iter().filter(|l| l.on.is_some()).count();
        out.push_str(&format!(
            "<form method=\"post\" action=\"/publicity\" id=\"publicity-all\">\
             <input type=\"hidden\" name=\"community\" value=\"all\">全县 {} 个社区（已公开 {on} 个）：\
             <label><input type=\"checkbox\" name=\"show_names\" value=\"1\"> 显示干部姓名</label> \
             <button name=\"action\" value=\"on\">全部公开</button> <button name=\"action\" value=\"off\">全部关闭</button>\
             </form>",
            lines.len()
        ));
    }
    out.push_str(
        "<div class=\"table-wrap\"><table><thead><tr><th>社区</th><th>公示页</th><th>干部显示</th><th>设置</th></tr>\
         </thead><tbody>",
    );
    for line in lines {
        let (state, link) = match &line.on {
            Some((by, at)) => (
                format!("已公开（{}，{}）", escape(by), escape(at)),
                format!(" <a href=\"/public/{0}\">/public/{0}</a>", escape(&line.code)),
            ),
            None => ("未公开".to_string(), String::new()),
        };
        let shown = if line.on.is_none() {
            "—"
        } else if line.show_names {
            "职务和姓名"
        } else {
            "只显示职务"
        };
        let checked = if line.show_names { " checked" } else { "" };
        out.push_str(&format!(
            "<tr><td>{name}（{code}）</td><td>{state}{link}</td><td>{shown}</td><td>\
             <form method=\"post\" action=\"/publicity\"><input type=\"hidden\" name=\"community\" value=\"{code}\">\
             <label><input type=\"checkbox\" name=\"show_names\" value=\"1\"{checked}> 显示干部姓名</label> \
             <button name=\"action\" value=\"on\">公开</button> <button name=\"action\" value=\"off\">关闭</button>\
             </form></td></tr>",
            name = escape(&line.name),
            code = escape(&line.code),
        ));
    }
    out.push_str("</tbody></table></div>");
    super::html::frame(page, &out)
}
