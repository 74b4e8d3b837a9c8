//! The 订阅与提醒 page (`/alerts`): the account's in-app notices, its subscriptions with a
//! delete button each, and a form for a new one. Labels only; the tokens travel in the
//! form's values.

use super::html::escape;

/// One subscription as listed.
#[derive(Debug, Clone)]
pub struct SubscriptionLine {
    pub id: i64,
    /// 条件（中文），with the threshold where there is one.
    pub condition: String,
    pub channel: String,
    /// The webhook with its key hidden, or the e-mail address; empty for in-app.
    pub target: String,
    pub created: String,
    /// The latest delivery's state in words ("已送达（第2次尝试）", "发送失败：…"), if any.
    pub last: Option<String>,
}

/// One in-app notice.
#[derive(Debug, Clone)]
pub struct NoticeLine {
    pub at: String,
    pub content: String,
}

/// What the page shows.
#[derive(Debug, Clone)]
pub struct AlertsView<'a> {
    pub notices: &'a [NoticeLine],
    pub subscriptions: &'a [SubscriptionLine],
    /// (token, 中文) of each condition and channel, for the form.
    pub conditions: &'a [(&'static str, &'static str)],
    pub channels: &'a [(&'static str, &'static str)],
    pub max: i64,
    /// The outcome of the form just sent: (ok, message).
    pub message: Option<&'a (bool, String)>,
}

/// The page.
pub fn alerts(page: &super::Page, view: &AlertsView<'_>) -> String {
    let mut out = String::new();
    if let Some((ok, text)) = view.message {
        let class = if *ok { "ok" } else { "alert" };
        out.push_str(&format!("<p class=\"{class}\" id=\"alerts-message\">{}</p>", escape(text)));
    }
    out.push_str("<h3>站内提醒</h3>");
    if view.notices.is_empty() {
        out.push_str("<p id=\"notices\">暂无站内提醒。</p>");
    } else {
        out.push_str("<ul id=\"notices\">");
        for notice in view.notices {
            let lines: Vec<String> = notice.content.lines().map(escape).collect();
            out.push_str(&format!("<li><strong>{}</strong><br>{}</li>", escape(&notice.at), lines.join("<br>")));
        }
        out.push_str("</ul>");
    }
    out.push_str(&format!(
        "<h3>我的订阅</h3><p>提醒只含本账号范围内的数据；同一组事项只提醒一次，送达失败会自动重试。每个账号最多 {} 个订阅。</p>",
        view.max
    ));
    if view.subscriptions.is_empty() {
        out.push_str("<p id=\"subscriptions\">还没有订阅。</p>");
    } else {
        out.push_str(
            "<div class=\"table-wrap\"><table id=\"subscriptions\"><thead><tr><th>提醒条件</th><th>送达方式</th>\
             <th>地址</th><th>订阅时间</th><th>最近一次</th><th>操作</th></tr></thead><tbody>",
        );
        for s in view.subscriptions {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>\
                 <form method=\"post\" action=\"/alerts/delete\"><input type=\"hidden\" name=\"id\" value=\"{}\">\
                 <button>删除</button></form></td></tr>",
                escape(&s.condition),
                escape(&s.channel),
                if s.target.is_empty() { "—".to_string() } else { escape(&s.target) },
                escape(&s.created),
                s.last.as_deref().map_or_else(|| "—".to_string(), escape),
                s.id,
            ));
        }
        out.push_str("</tbody></table></div>");
    }
    let options = |items: &[(&str, &str)]| -> String {
        items.iter().map(|(token, label)| format!("<option value=\"{token}\">{}</option>", escape(label))).collect()
    };
    out.push_str(&format!(
        "<h3>新建订阅</h3><form method=\"post\" action=\"/alerts\" id=\"new-subscription\">\
         <label>提醒条件 <select name=\"condition\">{}</select></label> \
         <label>满意率阈值（%） <input name=\"threshold\" type=\"number\" min=\"0\" max=\"100\" step=\"0.1\" value=\"80\"></label> \
         <label>送达方式 <select name=\"channel\">{}</select></label> \
         <label>地址 <input name=\"target\" maxlength=\"500\" style=\"width:min(26em,100%)\" placeholder=\"群机器人 Webhook 地址或邮箱，站内提醒不填\"></label> \
         <button>订阅</button></form>",
        options(view.conditions),
        options(view.channels),
    ));
    super::html::frame(page, &out)
}
