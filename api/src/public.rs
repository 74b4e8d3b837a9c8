//! The public side of 晒: a community's page for residents (`/public/<社区代码>`), on only
//! where an account of the community, its county or the platform turned it on
//! ([`set`]), computed in that community's scope only, and throttled per address.
//!
//! What may appear is chosen here, column by column, never `SELECT *`: topic titles,
//! categories, handling modes, dates, results, and the lead cadre's role (or name, where
//! the setting allows); never a respondent, an evaluation's comment or a rejected row.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use dashboards::encoding::text;
use dashboards::pages::public::{MeetingDay, PublicPage, PublicTopic};
use ingest::{Scope, Table};
use warehouse::analyses::{Figure, ReportKind};

use crate::accounts::Account;
use crate::catalog::{PublicPageRow, now_ms};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Turns `community`'s public page on (cadres by name when `show_names`) or off, for an
/// account whose scope holds the community; audited.
pub async fn set(state: &AppState, account: &Account, community: &str, on: bool, show_names: bool) -> AppResult<()> {
    let wanted = Scope::community(community).map_err(|e| AppError::bad_request("bad_scope_code", e.to_string()))?;
    let target = format!("public {community}");
    if !crate::catalog::contains(&account.scope, &wanted) {
        state.catalog.audit(Some(account), "public_page", &target, "refused: outside scope", 403).await;
        return Err(AppError::forbidden(
            "forbidden_scope",
            format!("{}无权设置社区 {community} 的公示页", account.scope),
        ));
    }
    let row = on.then(|| enabled_row(community, show_names, account));
    state.catalog.set_public_page(community, row.as_ref()).await?;
    let detail = if on { if show_names { "on, names" } else { "on, roles" } } else { "off" };
    state.catalog.audit(Some(account), "public_page", &target, detail, 200).await;
    Ok(())
}

/// The catalog row of a public page `account` turns on now.
fn enabled_row(community: &str, show_names: bool, account: &Account) -> PublicPageRow {
    PublicPageRow {
        community_code: community.to_string(),
        show_names: i64::from(show_names),
        enabled_by: account.name.clone(),
        enabled_at: now_ms(),
    }
}

/// The county-wide switch: turns the public pages of all `communities` (the county
/// account's communities, as its settings page lists them) on or off at once; one audit
/// line names the county and the number of communities. Only a county account may: a
/// community account has its own line, and the platform sets counties one by one.
pub async fn set_county(
    state: &AppState,
    account: &Account,
    communities: &[String],
    on: bool,
    show_names: bool,
) -> AppResult<usize> {
    let Scope::County(county) = &account.scope else {
        return Err(AppError::bad_request(
            "not_a_county_account",
            "只有县区账号可以一次设置全县的公示页；请逐个社区设置".to_string(),
        ));
    };
    let mine: Vec<&String> = communities.iter().filter(|c| c.starts_with(county.as_str())).collect();
    for community in &mine {
        let row = on.then(|| enabled_row(community, show_names, account));
        state.catalog.set_public_page(community, row.as_ref()).await?;
    }
    let detail = match (on, show_names) {
        (true, true) => format!("on, names: {} communities", mine.len()),
        (true, false) => format!("on, roles: {} communities", mine.len()),
        (false, _) => format!("off: {} communities", mine.len()),
    };
    state.catalog.audit(Some(account), "public_page", &format!("public county {county}"), &detail, 200).await;
    Ok(mine.len())
}

/// The page of `community` for `year` and `quarter` (default: the latest quarter with
/// topics), or `None` when its page is off (shown as 404, like a community that does not
/// exist: the public cannot tell which communities have a page turned off).
pub async fn page(
    state: &AppState,
    community: &str,
    year: Option<i32>,
    quarter: Option<u32>,
) -> AppResult<Option<PublicPage>> {
    if Scope::community(community).is_err() {
        return Ok(None);
    }
    let Some(setting) = state.catalog.public_page(community).await? else { return Ok(None) };
    page_data(state, community, year, quarter, setting.show_names == 1).await.map(Some)
}

/// What the public page (and the 公示 poster) of `community` shows, whatever its setting:
/// the caller decides whether it may be shown.
pub async fn page_data(
    state: &AppState,
    community: &str,
    year: Option<i32>,
    quarter: Option<u32>,
    show_names: bool,
) -> AppResult<PublicPage> {
    let scope = Scope::community(community).map_err(|e| AppError::bad_request("bad_scope_code", e.to_string()))?;
    // The quarters with the community's topics, in order: the default period is the
    // latest of them (of the year asked for, if any), and only they are offered as other
    // periods — a quarter without rows would be a page of dashes.
    let quarters = crate::reports::quarters_with_data(state, &scope).await?;
    let years = crate::reports::years(state, &scope).await?;
    let year = year.filter(|y| years.contains(y)).unwrap_or_else(|| years.last().copied().unwrap_or(2025));
    let latest_of_year = quarters.iter().rev().find(|(y, _)| *y == year).map(|(_, q)| *q);
    let quarter = quarter.filter(|q| (1..=4).contains(q)).or(latest_of_year).unwrap_or(4);
    let report = crate::reports::report(state, ReportKind::Quarterly, &scope, year, Some(quarter)).await?;
    let rows = dashboards::encoding::json::report_rows(&report);
    let row = rows.first();
    let value = |f: Figure| row.and_then(|r| r.get(f.key())).and_then(serde_json::Value::as_f64);
    let text_of = |f: Figure| row.and_then(|r| r.get(f.key())).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let figures = vec![
        ("办结率".to_string(), dashboards::pages::data::percent(value(Figure::CompletionRate))),
        ("按时办结率".to_string(), dashboards::pages::data::percent(value(Figure::OnTimeRate))),
        ("满意率".to_string(), dashboards::pages::data::percent(value(Figure::SatisfactionRate))),
        (
            "满意度指数".to_string(),
            value(Figure::SatisfactionIndex).map_or_else(|| "—".to_string(), |v| format!("{v:.1}")),
        ),
    ];
    let closed = closed_topics(state, &scope, year, quarter, show_names).await?;
    let coming = coming_days(state, &scope).await?;
    let periods = quarters
        .iter()
        .rev()
        .copied()
        .filter(|p| *p != (year, quarter))
        .take(8)
        .map(|(y, q)| (format!("{y}年第{q}季度"), format!("year={y}&quarter={q}")))
        .collect();
    Ok(PublicPage {
        community_name: name_or(text_of(Figure::CommunityName), community),
        county_name: text_of(Figure::CountyName),
        period: format!("{year}年第{quarter}季度"),
        figures,
        closed,
        coming,
        periods,
    })
}

fn name_or(name: String, code: &str) -> String {
    if name.is_empty() { code.to_string() } else { name }
}

/// The topics closed in the quarter, by closing date.
async fn closed_topics(
    state: &AppState,
    scope: &Scope,
    year: i32,
    quarter: u32,
    show_names: bool,
) -> AppResult<Vec<PublicTopic>> {
    let (start, end) = quarter_bounds(year, quarter);
    let sql = format!(
        "SELECT t.title AS title, t.category AS category, t.handling_mode AS handling_mode, \
         CAST(t.raised_on AS VARCHAR) AS raised, CAST(t.closed_on AS VARCHAR) AS closed, t.status AS status, \
         CASE WHEN t.closed_on <= t.deadline THEN '是' ELSE '否' END AS on_time, c.role AS role, \
         c.cadre_name AS cadre_name \
         FROM topics t LEFT JOIN cadres c ON c.community_code = t.community_code AND c.cadre_id = t.lead_cadre_id \
         WHERE t.{closed} AND t.closed_on >= DATE '{start}' AND t.closed_on < DATE '{end}' \
         ORDER BY t.closed_on, t.topic_id",
        closed = warehouse::analyses::CLOSED,
    );
    let result = state.query(scope, &sql).await?;
    let label = |table: Table, column: &str, value: &str| {
        table.column(column).map_or_else(|| value.to_string(), |c| c.label(value).to_string())
    };
    let mut out = Vec::new();
    for batch in &result.batches {
        let cell = |i: usize, r: usize| text::plain(batch.column(i), r);
        for r in 0..batch.num_rows() {
            let role = label(Table::Cadres, "role", &cell(7, r));
            let lead = match (show_names, cell(8, r)) {
                (true, name) if !name.is_empty() => format!("{role} {name}"),
                _ => role,
            };
            out.push(PublicTopic {
                title: cell(0, r),
                category: label(Table::Topics, "category", &cell(1, r)),
                handling_mode: label(Table::Topics, "handling_mode", &cell(2, r)),
                raised_on: cell(3, r),
                closed_on: cell(4, r),
                result: label(Table::Topics, "status", &cell(5, r)),
                on_time: cell(6, r),
                lead,
            });
        }
    }
    Ok(out)
}

/// The next two 说事议事日 (the 15th and the 30th, or the month's last day in February)
/// from today in China, with the titles of the topics set for a session held that day.
async fn coming_days(state: &AppState, scope: &Scope) -> AppResult<Vec<MeetingDay>> {
    let today = warehouse::analyses::overdue::today_in_china();
    let days = meeting_days_from(today, 2);
    let (first, last) = (days[0], days[days.len() - 1]);
    let sql = format!(
        "SELECT CAST(s.held_on AS VARCHAR) AS day, t.title AS title FROM sessions s \
         JOIN topics t ON t.community_code = s.community_code AND t.session_id = s.session_id \
         WHERE s.held_on >= DATE '{first}' AND s.held_on <= DATE '{last}' ORDER BY s.held_on, t.topic_id"
    );
    let result = state.query(scope, &sql).await?;
    let mut set: HashMap<String, Vec<String>> = HashMap::new();
    for batch in &result.batches {
        for r in 0..batch.num_rows() {
            set.entry(text::plain(batch.column(0), r)).or_default().push(text::plain(batch.column(1), r));
        }
    }
    Ok(days
        .into_iter()
        .map(|d| {
            let key = d.format("%Y-%m-%d").to_string();
            MeetingDay { day: d.format("%Y年%-m月%-d日").to_string(), topics: set.remove(&key).unwrap_or_default() }
        })
        .collect())
}

/// The first `n` meeting days on or after `from`: each month's 15th and 30th (in
/// February its last day).
pub fn meeting_days_from(from: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n);
    let (mut y, mut m) = (from.year(), from.month());
    while out.len() < n {
        let last = NaiveDate::from_ymd_opt(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1)
            .and_then(|d| d.pred_opt())
            .map_or(28, |d| d.day());
        for day in [15, 30.min(last)] {
            if let Some(d) = NaiveDate::from_ymd_opt(y, m, day).filter(|d| *d >= from)
                && out.len() < n
            {
                out.push(d);
            }
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

fn quarter_bounds(year: i32, quarter: u32) -> (String, String) {
    let start = format!("{year:04}-{:02}-01", 3 * (quarter - 1) + 1);
    let end =
        if quarter == 4 { format!("{:04}-01-01", year + 1) } else { format!("{year:04}-{:02}-01", 3 * quarter + 1) };
    (start, end)
}

/// At most `per_minute` public page requests per client address per minute; the table
/// holds at most 10,000 addresses (cleared when full: a flood of addresses resets itself
/// rather than growing without bound).
#[derive(Debug)]
pub struct PublicThrottle {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl PublicThrottle {
    pub fn new(per_minute: u32) -> PublicThrottle {
        PublicThrottle { per_minute, seen: Mutex::new(HashMap::new()) }
    }

    /// Whether a request from `ip` may go ahead now.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip.map(crate::login::address_key) else { return true };
        let Ok(mut seen) = self.seen.lock() else { return true };
        if seen.len() >= 10_000 {
            seen.clear();
        }
        let now = Instant::now();
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_days_are_the_15th_and_the_30th_or_february_s_last() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(meeting_days_from(d(2026, 2, 16), 3), vec![d(2026, 2, 28), d(2026, 3, 15), d(2026, 3, 30)]);
        assert_eq!(meeting_days_from(d(2026, 12, 31), 2), vec![d(2027, 1, 15), d(2027, 1, 30)]);
        assert_eq!(meeting_days_from(d(2026, 4, 15), 1), vec![d(2026, 4, 15)]);
    }

    #[test]
    fn the_throttle_counts_per_address_per_minute() {
        let throttle = PublicThrottle::new(2);
        let a = Some("10.0.0.1".parse().expect("ip"));
        assert!(throttle.allow(a) && throttle.allow(a) && !throttle.allow(a));
        assert!(throttle.allow(Some("10.0.0.2".parse().expect("ip"))));
        assert!(throttle.allow(None), "without an address (in-process tests) nothing is counted");
    }
}
