//! The dashboards: login and logout with a cookie session, and the pages, each computed
//! in the signed-in user's scope narrowed by the page's filters (a filter outside the
//! scope is a 403 page, as in the API).

use std::time::Instant;

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use dashboards::pages::{self, Nav, Page};
use ingest::{Scope, Table};
use serde::Deserialize;
use warehouse::analyses::{Figure, ReportKind};
use warehouse::scheme::Scheme;

use super::params::{Detail, Filters, Q};
use crate::accounts::Account;
use crate::auth::{PageCaller, SESSION_COOKIE, cookie, narrow};
use crate::catalog::beijing_time;
use crate::error::{AppError, AppResult};
use crate::holds::Held;
use crate::login::{self, ClientAddr};
use crate::state::AppState;
use crate::{ledger, reports, uploads};

pub async fn home(PageCaller(_): PageCaller) -> Redirect {
    Redirect::to("/overview")
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

pub async fn login_form(Q(q): Q<LoginQuery>) -> Html<String> {
    Html(pages::login(None, &safe_next(q.next.as_deref()), ""))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

/// Where to go after login: only a path on this site, else `/overview`. A browser drops
/// tabs and line breaks from a `Location` and reads `\` as `/`, so `/\t/evil.example` or
/// `/\evil.example` would leave the site: the path must start with one `/` not followed by
/// `/` or `\`, hold printable ASCII only (no control character, no whitespace, nothing a
/// browser would strip or fold; what a browser sends is percent-encoded) and no `\`
/// anywhere, and be at most 2,000 bytes.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.len() <= 2000
                && n.starts_with('/')
                && !n[1..].starts_with(['/', '\\'])
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/overview".to_string(),
    }
}

/// The login form's post. Throttled (see [`crate::login`]): while the name or the client's
/// address is locked, a 429 page with `Retry-After` and no password check; a full hashing
/// gate is a 503 page with `Retry-After`.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let attempt = match state.logins.begin(&form.username, address, Instant::now()) {
        Ok(a) => a,
        Err(throttled) => {
            // One audit row per lock (its first refusal), however many attempts follow.
            for target in &throttled.audit {
                let detail = format!(
                    "登录失败次数过多，{} 秒内拒绝登录（来自 {}）；锁定期间的其他尝试不再逐条记录",
                    throttled.retry_after_secs(),
                    address.map_or_else(|| "未知地址".to_string(), |a| a.to_string())
                );
                state.catalog.audit(None, "login_throttled", target, &detail, 429).await;
            }
            if throttled.audit.is_empty() {
                tracing::debug!(retry_after = throttled.retry_after_secs(), "login throttled");
            } else {
                tracing::warn!(locked = ?throttled.audit, retry_after = throttled.retry_after_secs(), "login locked");
            }
            return login_refused(&throttled.error(), throttled.retry_after_secs(), &next, &form.username);
        }
    };
    let account = match state.catalog.login(&state.hashing, &form.username, &form.password).await {
        Ok(a) => a,
        Err(e) => {
            state.logins.withdraw(attempt);
            if e.status() == StatusCode::SERVICE_UNAVAILABLE {
                tracing::debug!(error = %e, "login refused: password hashing busy");
            } else {
                tracing::error!(error = %e, "login failed");
            }
            return login_refused(&e, login::BUSY_RETRY_SECS, &next, &form.username);
        }
    };
    let Some(account) = account else {
        state.logins.failed(attempt);
        let who = form.username.chars().take(64).collect::<String>();
        state.catalog.audit(None, "login_failed", &who, "用户名或密码不正确", 401).await;
        let page = pages::login(Some("用户名或密码不正确"), &next, &form.username);
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    };
    state.logins.succeeded(attempt);
    let secret = match state.catalog.create_session(&account.name, state.config.session_ttl).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    state.catalog.audit(Some(&account), "login", "session", "", 303).await;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl.as_secs()
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The login page with the refusal's message, its status, and `Retry-After` on a 429 or 503.
fn login_refused(e: &AppError, retry_after_secs: u64, next: &str, username: &str) -> Response {
    let (status, _, message) = e.parts();
    let mut response = (status, Html(pages::login(Some(&message), next, username))).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    response
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        if let Ok(Some(account)) = state.catalog.session_account(&secret).await {
            state.catalog.audit(Some(&account), "logout", "session", "", 303).await;
        }
        let _ = state.catalog.end_session(&secret).await;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("yishi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// A page's frame and the scope its data are computed in.
async fn page_of(state: &AppState, account: &Account, nav: Nav, filters: &Filters) -> AppResult<(Page, Scope)> {
    filters.check()?;
    let mut county = filters.county.clone().filter(|c| !c.trim().is_empty());
    let mut community = filters.community.clone().filter(|c| !c.trim().is_empty());
    // A community left selected after the county was changed: the county wins.
    if let (Some(county), Some(c)) = (&county, &community)
        && !c.starts_with(county.as_str())
    {
        community = None;
    }
    let scope = narrow(&account.scope, county.as_deref(), community.as_deref())?;
    reports::check_named(state, &scope, county.is_some() || community.is_some()).await?;
    match &account.scope {
        Scope::County(c) => county = Some(c.clone()),
        Scope::Community(c) => {
            county = c.get(..6).map(str::to_string);
            community = Some(c.clone());
        }
        Scope::Platform => {}
    }
    if let (Some(county), Some(c)) = (&county, &community)
        && !c.starts_with(county.as_str())
    {
        community = None;
    }
    let years = reports::years(state, &account.scope).await?;
    let year = filters.year.unwrap_or_else(|| years.last().copied().unwrap_or(2025));
    let places = |p: crate::catalog::Place| pages::Place { code: p.code, name: p.name, county_code: p.county_code };
    let options = pages::Options {
        years,
        counties: state.catalog.counties(&account.scope).await?.into_iter().map(places).collect(),
        communities: state.catalog.communities(&account.scope).await?.into_iter().map(places).collect(),
        county_fixed: !matches!(account.scope, Scope::Platform),
        community_fixed: matches!(account.scope, Scope::Community(_)),
    };
    let notice = match nav {
        Nav::Upload | Nav::Schemes | Nav::Publicity | Nav::Alerts => None,
        _ => reports::empty_notice(state, &scope, year, filters.quarter).await?,
    };
    let page = Page {
        nav,
        user: account.display_name.clone(),
        scope: account.scope.to_string(),
        place: state.place_name(&scope).await?,
        filters: pages::Filters { year, quarter: filters.quarter, county, community },
        options,
        notice,
        notices: crate::alerts::notice_count(state, account).await,
        about: Vec::new(),
    };
    Ok((page, scope))
}

/// An HTML error page with the error's status.
fn error_page(e: AppError) -> Response {
    let (status, _, message) = e.parts();
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    (status, Html(pages::error(None, &message))).into_response()
}

fn html(result: AppResult<String>) -> Response {
    match result {
        Ok(body) => Html(body).into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn overview(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (mut page, scope) = page_of(&state, &account, Nav::Overview, &filters).await?;
            let asked = filters.asked()?;
            let f = page.filters.clone();
            let quarterly =
                reports::report_at(&state, ReportKind::Quarterly, &scope, f.year, f.quarter, &asked).await?;
            let communities = reports::report_at(&state, ReportKind::Communities, &scope, f.year, None, &asked).await?;
            let previous = previous_quarterly(&state, &scope, &f, &asked).await;
            let units = reports::report_at(&state, ReportKind::Units, &scope, f.year, f.quarter, &asked).await?;
            let more = pages::units_section(&units, &f);
            let overdue = reports::report_at(&state, ReportKind::Overdue, &scope, f.year, f.quarter, &asked).await?;
            let hot = reports::report_at(&state, ReportKind::HotTopics, &scope, f.year, f.quarter, &asked).await?;
            describe(&mut page, &account, &[&*quarterly, &*communities]);
            Ok(pages::overview(&page, &quarterly, previous.as_deref(), &communities, (&overdue, &hot), &more))
        }
        .await,
    )
}

pub async fn quarterly(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (mut page, scope) = page_of(&state, &account, Nav::Quarterly, &filters).await?;
            let asked = filters.asked()?;
            let f = page.filters.clone();
            let quarterly =
                reports::report_at(&state, ReportKind::Quarterly, &scope, f.year, f.quarter, &asked).await?;
            describe(&mut page, &account, &[&*quarterly]);
            Ok(pages::quarterly(&page, &quarterly))
        }
        .await,
    )
}

pub async fn cadres(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (mut page, scope) = page_of(&state, &account, Nav::Cadres, &filters).await?;
            let asked = filters.asked()?;
            let year = page.filters.year;
            let cadres = reports::report_at(&state, ReportKind::Cadres, &scope, year, None, &asked).await?;
            let evidence = ledger::cadre_evidence(&state, &scope, year).await?;
            let note = grades_note(&state, &scope, &cadres).await?;
            describe(&mut page, &account, &[&*cadres]);
            Ok(pages::cadres(&page, &cadres, &evidence, &note))
        }
        .await,
    )
}

pub async fn counties(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (mut page, scope) = page_of(&state, &account, Nav::Counties, &filters).await?;
            let asked = filters.asked()?;
            let year = page.filters.year;
            let counties = reports::report_at(&state, ReportKind::Counties, &scope, year, None, &asked).await?;
            let communities = reports::report_at(&state, ReportKind::Communities, &scope, year, None, &asked).await?;
            describe(&mut page, &account, &[&*counties, &*communities]);
            Ok(pages::counties(&page, &counties, &communities))
        }
        .await,
    )
}

/// The 书面报告 page: the documents of the caller's scope (narrowed by the filters) to
/// generate and download through `/api/v1/documents`.
pub async fn documents(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (page, scope) = page_of(&state, &account, Nav::Documents, &filters).await?;
            let view = crate::documents::listing(&state, &scope, &page).await?;
            Ok(pages::documents(&page, &view))
        }
        .await,
    )
}

pub async fn community(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (mut page, scope) = page_of(&state, &account, Nav::Community, &filters).await?;
            let asked = filters.asked()?;
            let f = page.filters.clone();
            let Scope::Community(code) = &scope else {
                let quarterly =
                    reports::report_at(&state, ReportKind::Quarterly, &scope, f.year, f.quarter, &asked).await?;
                let communities =
                    reports::report_at(&state, ReportKind::Communities, &scope, f.year, None, &asked).await?;
                describe(&mut page, &account, &[&*quarterly, &*communities]);
                return Ok(pages::community_list(&page, &quarterly, &communities));
            };
            let quarterly =
                reports::report_at(&state, ReportKind::Quarterly, &scope, f.year, f.quarter, &asked).await?;
            let name = page.options.communities.iter().find(|c| &c.code == code).map(|c| c.name.clone());
            let name = name.unwrap_or_else(|| code.clone());
            let sessions = ledger::community_sessions(&state, &scope, f.year, f.quarter).await?;
            let which = ledger::TopicsOf::Period { year: f.year, quarter: f.quarter };
            let topics = ledger::topics(&state, &scope, which, f.year).await?;
            let previous = previous_quarterly(&state, &scope, &f, &asked).await;
            let meetings = reports::report_at(&state, ReportKind::Meetings, &scope, f.year, f.quarter, &asked).await?;
            let handling = reports::report_at(&state, ReportKind::Handling, &scope, f.year, f.quarter, &asked).await?;
            let more = pages::community_sections(&meetings, &handling, &f);
            let overdue = reports::report_at(&state, ReportKind::Overdue, &scope, f.year, f.quarter, &asked).await?;
            describe(&mut page, &account, &[&*quarterly]);
            Ok(pages::community(&page, (&name, &quarterly, previous.as_deref(), &sessions, &topics), &more, &overdue))
        }
        .await,
    )
}

/// The page's 口径 lines: each report's schemes (name, version, hash) and, for a platform
/// account, its data versions (they count every tenant's uploads; see `report_headers`);
/// the reports' notes (a frozen result, a past version) join the page's notice.
fn describe(page: &mut Page, account: &Account, shown: &[&warehouse::analyses::Report]) {
    let mut about = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for report in shown {
        let m = &report.meta;
        let mut line = format!("{}：评分方案 {}", report.kind.chinese(), m.scheme_text());
        if matches!(account.scope, Scope::Platform) {
            let versions: Vec<String> = m.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
            line.push_str(&format!("｜数据版本 {}", versions.join(", ")));
        }
        if !about.contains(&line) {
            about.push(line);
        }
        notes.extend(m.notes.iter().filter(|n| !notes.contains(n)).cloned().collect::<Vec<_>>());
    }
    page.about = about;
    if !notes.is_empty() {
        let notes = notes.join("；");
        page.notice = Some(match page.notice.take() {
            Some(n) => format!("{n}；{notes}"),
            None => notes,
        });
    }
}

/// The grade rule the cadres page states: the scheme its rows were computed with (a
/// county's own, or the default where counties differ, which the 口径 lines then name).
async fn grades_note(state: &AppState, scope: &Scope, cadres: &warehouse::analyses::Report) -> AppResult<String> {
    let scheme = match (scope.county_code(), cadres.meta.scheme_version) {
        (Some(county), Some(v)) => match state.catalog.scheme(county, v).await? {
            Some(row) => reports::versioned(&row)?.scheme,
            None => Scheme::default(),
        },
        _ => Scheme::default(),
    };
    let g = &scheme.grades;
    let mut note = format!(
        "优秀：得分 ≥ {} 且在本县参评干部的前 {:.0}%（至少 1 名）；称职 ≥ {}；基本称职 ≥ {}；全年议题少于 {} 个的不参评。",
        g.excellent_score,
        g.excellent_quota * 100.0,
        g.competent_score,
        g.basically_competent_score,
        g.min_topics
    );
    if cadres.meta.schemes.len() > 1 {
        note.push_str("（以上为默认方案；有本县方案的县区按本县方案评定，见页脚口径。）");
    }
    Ok(note)
}

/// A detail page's community, checked against the caller's scope before anything is read:
/// outside it the page is a 404 with `missing`, as for an id that does not exist, so
/// another tenant's ids are not confirmed.
fn admitted(account: &Account, community: &str, missing: &str) -> AppResult<()> {
    if account.scope.admits(community) { Ok(()) } else { Err(AppError::not_found(missing)) }
}

/// One cadre (`/cadre?year=&community=&cadre=`): its score components beside the county's
/// average of rated cadres, its topics, evaluations and rectifications of the year.
pub async fn cadre(State(state): State<AppState>, PageCaller(account): PageCaller, Q(detail): Q<Detail>) -> Response {
    html(
        async {
            let (community, id) = detail.key(detail.cadre.as_deref(), "干部")?;
            let missing = format!("没有找到社区 {community} 的干部“{id}”，或不在本账号的范围内");
            admitted(&account, &community, &missing)?;
            let (mut page, scope) = page_of(&state, &account, Nav::Cadre, &detail.filters(&community)).await?;
            let asked = detail.asked()?;
            let year = page.filters.year;
            let cadres = reports::report_at(&state, ReportKind::Cadres, &scope, year, None, &asked).await?;
            let ids = pages::data::texts(&cadres, Figure::CadreId);
            let row = ids.iter().position(|i| *i == id).ok_or_else(|| AppError::not_found(&missing))?;
            // The county's cadres only for their averages; the page shows no other cadre.
            let county = Scope::County(community.get(..6).unwrap_or_default().to_string());
            let county = reports::report_at(&state, ReportKind::Cadres, &county, year, None, &asked).await?;
            describe(&mut page, &account, &[&*cadres]);
            let which = ledger::TopicsOf::Cadre { cadre_id: &id, year };
            let view = pages::CadreView {
                cadres: &cadres,
                row,
                county: &county,
                topics: &ledger::topics(&state, &scope, which, year).await?,
                evaluations: &ledger::evaluations(&state, &scope, which).await?,
                rectifications: &ledger::rectifications(&state, &scope, which).await?,
            };
            Ok(pages::cadre(&page, &view))
        }
        .await,
    )
}

/// One topic (`/topic?community=&topic=`): its row, evaluations, rectifications and 处理经过.
pub async fn topic(State(state): State<AppState>, PageCaller(account): PageCaller, Q(detail): Q<Detail>) -> Response {
    html(
        async {
            let (community, id) = detail.key(detail.topic.as_deref(), "议题")?;
            let missing = format!("没有找到社区 {community} 的议题“{id}”，或不在本账号的范围内");
            admitted(&account, &community, &missing)?;
            let (page, scope) = page_of(&state, &account, Nav::Topic, &detail.filters(&community)).await?;
            let which = ledger::TopicsOf::One { topic_id: &id };
            let topic = ledger::topics(&state, &scope, which, page.filters.year).await?;
            let title =
                topic.rows.first().and_then(|r| r.get(1)).cloned().ok_or_else(|| AppError::not_found(&missing))?;
            let evaluations = ledger::evaluations(&state, &scope, which).await?;
            let rectifications = ledger::rectifications(&state, &scope, which).await?;
            let history = ledger::topic_history(&state, &scope, &community, &id).await?;
            let history = pages::TopicHistory {
                table: ledger::history_table(history.as_ref()),
                partial: history.as_ref().is_some_and(|h| h.earlier_versions_not_scanned),
            };
            Ok(pages::topic(&page, &title, &topic, &evaluations, &rectifications, &history))
        }
        .await,
    )
}

/// The quarterly report of the period before the page's (the quarter before, or the year
/// before a whole year), for the headline cards' changes; `None`, logged, when it cannot
/// be computed (the cards then show no change rather than the page failing).
async fn previous_quarterly(
    state: &AppState,
    scope: &Scope,
    f: &pages::Filters,
    asked: &reports::Asked,
) -> Option<std::sync::Arc<warehouse::analyses::Report>> {
    let (year, quarter) = match f.quarter {
        Some(1) => (f.year - 1, Some(4)),
        Some(q) => (f.year, Some(q - 1)),
        None => (f.year - 1, None),
    };
    match reports::report_at(state, ReportKind::Quarterly, scope, year, quarter, asked).await {
        Ok(report) => Some(report),
        Err(e) => {
            tracing::warn!(error = %e, year, ?quarter, "the previous period's report for the headline failed");
            None
        }
    }
}

pub async fn upload_form(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(filters): Q<Filters>,
) -> Response {
    html(
        async {
            let (page, _) = page_of(&state, &account, Nav::Upload, &filters).await?;
            Ok(pages::upload(&page, &table_statuses(&state, &account).await?, None))
        }
        .await,
    )
}

/// Each table's rows in the caller's scope and its last upload there, in table order.
async fn table_statuses(state: &AppState, account: &Account) -> AppResult<Vec<pages::TableStatus>> {
    use warehouse::arrow::array::{Array, AsArray};
    // One row: each table's count in the scope, in table order.
    let counts: Vec<String> =
        Table::ALL.iter().map(|t| format!("(SELECT count(*) FROM {0}) AS {0}", t.name())).collect();
    let result = state.query(&account.scope, &format!("SELECT {}", counts.join(", "))).await?;
    let mut rows = std::collections::HashMap::new();
    if let Some(batch) = result.batches.iter().find(|b| b.num_rows() > 0) {
        for (table, column) in Table::ALL.iter().zip(batch.columns()) {
            let column = column.as_primitive::<warehouse::arrow::datatypes::Int64Type>();
            if column.is_valid(0) {
                rows.insert(table.name(), u64::try_from(column.value(0)).unwrap_or(0));
            }
        }
    }
    let batches = state.catalog.batches(&account.scope, 500).await?;
    Ok(Table::ALL
        .iter()
        .map(|&table| pages::TableStatus {
            table,
            rows: rows.get(table.name()).copied().unwrap_or(0),
            last_upload: batches
                .iter()
                .find(|b| b.table_name == table.name() && b.outcome == "committed")
                .map(|b| format!("{}（{}）", beijing_time(b.at), b.actor)),
        })
        .collect())
}

/// The batch history of the caller's scope, newest first.
pub async fn upload_history(State(state): State<AppState>, PageCaller(account): PageCaller) -> Response {
    html(
        async {
            let (page, _) = page_of(&state, &account, Nav::Upload, &Filters::default()).await?;
            let batches = state.catalog.batches(&account.scope, 200).await?;
            let lines: Vec<pages::BatchLine> = batches
                .iter()
                .map(|b| {
                    let committed = b.outcome == "committed";
                    pages::BatchLine {
                        at: beijing_time(b.at),
                        actor: b.actor.clone(),
                        table: Table::parse(&b.table_name).map_or(b.table_name.clone(), |t| t.chinese().to_string()),
                        file_name: b.file_name.clone(),
                        outcome: match b.outcome.as_str() {
                            "committed" => "已写入",
                            "refused" => "未写入",
                            _ => "已导入过",
                        }
                        .to_string(),
                        inserted: b.rows_inserted,
                        updated: b.rows_updated,
                        unchanged: if committed { b.rows_accepted - b.rows_inserted - b.rows_updated } else { 0 },
                        rejected: b.rows_rejected,
                        rejects_url: (b.rows_rejected > 0).then(|| format!("/api/v1/batches/{}/rejects.csv", b.id)),
                    }
                })
                .collect();
            Ok(pages::upload_history(&page, &lines))
        }
        .await,
    )
}

/// The upload form's post: previews the file in the user's scope (nothing written),
/// holds it and offers to confirm (see [`crate::holds`] for why it is held).
pub async fn upload(State(state): State<AppState>, PageCaller(account): PageCaller, request: Request) -> Response {
    let page = match page_of(&state, &account, Nav::Upload, &Filters::default()).await {
        Ok((page, _)) => page,
        Err(e) => return error_page(e),
    };
    let upload = match uploads::read_upload(&state, request).await {
        Ok(u) => u,
        Err(e) => return page_with(&state, &account, &page, failed("", "", &e), e.status()).await,
    };
    let table_name = upload.table.clone().unwrap_or_default();
    let file_name = upload.file_name.clone().unwrap_or_else(|| "upload.csv".into());
    let table = match Table::parse(&table_name) {
        Some(t) => t,
        None => {
            let e = AppError::bad_request("unknown_table", "请选择要上传的台账表");
            return page_with(&state, &account, &page, failed(&file_name, &table_name, &e), e.status()).await;
        }
    };
    let options = uploads::UploadOptions {
        partial: upload.partial.unwrap_or(false),
        sheet: upload.sheet.clone(),
        header_row: upload.header_row,
    };
    let job = uploads::Job::new(&state, &account, &file_name, upload.bytes.clone(), options);
    let preview = uploads::preview(&state, &account, table, job).await;
    let p = match preview {
        Ok(p) => p,
        Err(e) => return page_with(&state, &account, &page, failed(&file_name, table.name(), &e), e.status()).await,
    };
    let hold = (p.would_commit && !p.already_ingested)
        .then(|| state.holds.put(Held::new(owner(&account), table, file_name.clone(), upload)));
    let shown = pages::UploadPreview {
        file_name: p.file_name.clone(),
        table: table.name().to_string(),
        summary: p.summary.clone(),
        more_changes: p.rows_updated > p.changes.len(),
        changes: p.changes.iter().map(warehouse::RowChange::describe).collect(),
        errors: upload_errors(&p.errors),
        hold,
    };
    let status = if p.rows_rejected > 0 && !p.would_commit { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, Html(pages::upload_preview(&page, &shown))).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct SchemesQuery {
    pub county: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SchemeForm {
    pub toml: String,
    pub in_force_from: Option<String>,
}

/// 评分方案: the county's versions, the one asked for (or in force) with its diff, and the
/// upload form (county and platform accounts).
pub async fn schemes(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(q): Q<SchemesQuery>,
) -> Response {
    html(schemes_page(&state, &account, &q, None).await)
}

/// The upload form's post: stores the scheme (checked as the API checks it) and shows the
/// page with the outcome.
pub async fn scheme_upload(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Q(q): Q<SchemesQuery>,
    Form(form): Form<SchemeForm>,
) -> Response {
    let county = q.county.clone().or_else(|| account.county_code().map(str::to_string)).unwrap_or_default();
    let stored =
        crate::schemes::upload(&state, &account, &county, form.toml.as_bytes(), form.in_force_from.as_deref()).await;
    let (status, message, shown) = match stored {
        Ok(v) => (
            StatusCode::OK,
            (true, format!("已存为第{}版“{}”，{} 起生效", v.row.version, v.row.name, v.row.in_force_from)),
            Some(v.row.version.to_string()),
        ),
        Err(e) => (e.status(), (false, e.parts().2), None),
    };
    let q = SchemesQuery { county: Some(county), version: shown };
    match schemes_page(&state, &account, &q, Some(message)).await {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => error_page(e),
    }
}

async fn schemes_page(
    state: &AppState,
    account: &Account,
    q: &SchemesQuery,
    message: Option<(bool, String)>,
) -> AppResult<String> {
    let (mut page, _) = page_of(state, account, Nav::Schemes, &Filters::default()).await?;
    let county =
        q.county.clone().filter(|c| !c.trim().is_empty()).or_else(|| account.county_code().map(str::to_string));
    let mut view = pages::SchemesView {
        counties: page.options.counties.clone(),
        can_upload: !matches!(account.scope, Scope::Community(_)),
        message,
        ..Default::default()
    };
    let Some(county) = county else {
        return Ok(pages::schemes(&page, &view));
    };
    let versions = crate::schemes::list(state, account, &county).await?;
    let name =
        page.options.counties.iter().find(|c| c.code == county).map_or_else(|| county.clone(), |c| c.name.clone());
    let wanted = match q.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => Some(
            v.parse::<i64>().map_err(|_| AppError::bad_request("bad_id", format!("方案版本应为正整数，收到“{v}”")))?,
        ),
        None => versions.iter().find(|v| v.in_force).or(versions.first()).map(|v| v.row.version),
    };
    if let Some(version) = wanted {
        let shown = crate::schemes::one(state, account, &county, version).await?;
        view.shown = Some((scheme_line(&shown), shown.row.toml.clone(), shown.diff.clone()));
    }
    view.versions = versions.iter().map(scheme_line).collect();
    view.county = Some((county, name.clone()));
    page.place = name;
    Ok(pages::schemes(&page, &view))
}

fn scheme_line(v: &crate::schemes::SchemeView) -> pages::SchemeLine {
    pages::SchemeLine {
        version: v.row.version,
        name: v.row.name.clone(),
        hash: v.row.hash.clone(),
        in_force_from: v.row.in_force_from.clone(),
        uploaded_by: v.row.uploaded_by.clone(),
        uploaded_at: beijing_time(v.row.uploaded_at),
        in_force: v.in_force,
    }
}

/// Who may confirm a held file: the same account in the same scope.
fn owner(account: &Account) -> String {
    format!("{}@{}", account.name, account.scope)
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    hold: String,
}

/// "确认写入": ingests the held file in the user's scope and shows the result.
pub async fn upload_confirm(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let page = match page_of(&state, &account, Nav::Upload, &Filters::default()).await {
        Ok((page, _)) => page,
        Err(e) => return error_page(e),
    };
    let Some(held) = state.holds.take(form.hold.trim(), &owner(&account)) else {
        let e = AppError::bad_request("hold_expired", "预览的文件已过期或已写入（保留 15 分钟），请重新上传");
        return page_with(&state, &account, &page, failed("", "", &e), e.status()).await;
    };
    let (table, file_name) = (held.table, held.file_name.clone());
    let job = uploads::Job::new(&state, &account, &file_name, held.bytes.clone(), held.options.clone());
    let answer = uploads::ingest(&state, &account, table, job).await;
    drop(held);
    match answer {
        Ok(a) => {
            let message = match a.outcome {
                warehouse::IngestOutcome::Committed if a.rows_rejected > 0 => {
                    format!("已写入 {} 行；{} 行不合格未写入", a.rows_accepted, a.rows_rejected)
                }
                warehouse::IngestOutcome::Committed => format!(
                    "已写入 {} 行（新增 {}，更新 {}，不变 {}）",
                    a.rows_accepted,
                    a.rows_inserted,
                    a.rows_updated,
                    a.rows_accepted.saturating_sub(a.rows_inserted + a.rows_updated)
                ),
                warehouse::IngestOutcome::Unchanged => "这个文件已经导入过，数据没有变化".to_string(),
                warehouse::IngestOutcome::Refused => a.message.clone().unwrap_or_default(),
            };
            let message = match a.layout_note() {
                Some(note) => format!("{message}。{note}"),
                None => message,
            };
            let result = pages::UploadResult {
                file_name: a.file_name.clone(),
                table: a.table.to_string(),
                outcome: match a.outcome {
                    warehouse::IngestOutcome::Committed => "committed",
                    warehouse::IngestOutcome::Refused => "refused",
                    warehouse::IngestOutcome::Unchanged => "unchanged",
                }
                .into(),
                message,
                rows_accepted: a.rows_accepted,
                rows_rejected: a.rows_rejected,
                errors: upload_errors(&a.errors),
                rejects_url: a.rejects_csv_url.clone(),
            };
            let status = if a.outcome == warehouse::IngestOutcome::Refused {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            page_with(&state, &account, &page, result, status).await
        }
        Err(e) => page_with(&state, &account, &page, failed(&file_name, table.name(), &e), e.status()).await,
    }
}

fn upload_errors(errors: &[ingest::RowError]) -> Vec<pages::UploadError> {
    errors
        .iter()
        .map(|e| pages::UploadError {
            row: e.row,
            header: e.header.clone(),
            column: e.column.to_string(),
            value: e.value.clone(),
            message: e.message.clone(),
        })
        .collect()
}

fn failed(file_name: &str, table: &str, e: &AppError) -> pages::UploadResult {
    pages::UploadResult {
        file_name: file_name.to_string(),
        table: table.to_string(),
        message: e.parts().2,
        ..Default::default()
    }
}

async fn page_with(
    state: &AppState,
    account: &Account,
    page: &Page,
    result: pages::UploadResult,
    status: StatusCode,
) -> Response {
    match table_statuses(state, account).await {
        Ok(tables) => (status, Html(pages::upload(page, &tables, Some(&result)))).into_response(),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed_after_login() {
        for kept in ["/overview", "/quarterly?year=2025", "/community?year=2025&community=141026100001", "/a/b%2F%2Fc"]
        {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "/\t/evil.example/x",
            "/\r\n/evil",
            "/\n/evil.example",
            "/ /evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "/x\\..\\evil",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            " /overview",
            "/overview\u{0}",
            "/overview\u{7f}",
            "/\u{3000}/evil.example",
            "/总览",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), "/overview", "{refused:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/overview");
        assert_eq!(safe_next(None), "/overview");
    }
}

#[derive(Debug, Deserialize)]
pub struct PublicQuery {
    pub year: Option<String>,
    pub quarter: Option<String>,
}

/// `/public/{community}`: the community's public 晒 page, without a login; 404 where the
/// page is off (as for a community that does not exist), 429 past 60 requests a minute
/// from one address. Cached by browsers and proxies for five minutes; no cookie is read
/// or set, and its policy allows no script at all.
pub async fn public_page(
    State(state): State<AppState>,
    crate::login::ClientAddr(ip): crate::login::ClientAddr,
    axum::extract::Path(community): axum::extract::Path<String>,
    Q(q): Q<PublicQuery>,
) -> Response {
    const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; \
                       form-action 'none'; frame-ancestors 'none'";
    let headers = |cache: &'static str| [(header::CONTENT_SECURITY_POLICY, CSP), (header::CACHE_CONTROL, cache)];
    if !state.public_pages.allow(ip) {
        let body = "访问过于频繁，请一分钟后再试。";
        return (StatusCode::TOO_MANY_REQUESTS, headers("no-store"), Html(body.to_string())).into_response();
    }
    let year = q.year.as_deref().and_then(|y| y.trim().parse::<i32>().ok());
    let quarter = q.quarter.as_deref().and_then(|v| v.trim().parse::<u32>().ok());
    match crate::public::page(&state, community.trim(), year, quarter).await {
        Ok(Some(page)) => {
            (StatusCode::OK, headers("public, max-age=300"), Html(pages::public::render(&page))).into_response()
        }
        Ok(None) => {
            let body = "没有这个社区的公示页（社区未开通公示，或社区代码有误）。";
            (StatusCode::NOT_FOUND, headers("no-store"), Html(body.to_string())).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "public page");
            let body = "公示页暂时无法显示，请稍后再试。";
            (StatusCode::SERVICE_UNAVAILABLE, headers("no-store"), Html(body.to_string())).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PublicityForm {
    pub community: String,
    pub action: String,
    pub show_names: Option<String>,
}

/// `/publicity`: the caller's communities and whether their public pages are on.
pub async fn publicity(State(state): State<AppState>, PageCaller(account): PageCaller) -> Response {
    html(publicity_page(&state, &account, None).await)
}

/// The 公开/关闭 buttons of `/publicity`.
pub async fn publicity_set(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Form(form): Form<PublicityForm>,
) -> Response {
    let on = form.action == "on";
    let names = form.show_names.as_deref() == Some("1");
    let (status, message) = if form.community.trim() == "all" {
        // The county-wide switch: every community the settings page lists.
        let listed = page_of(&state, &account, Nav::Publicity, &Filters::default()).await;
        let done = match listed {
            Ok((page, _)) => {
                let codes: Vec<String> = page.options.communities.iter().map(|c| c.code.clone()).collect();
                crate::public::set_county(&state, &account, &codes, on, names).await
            }
            Err(e) => Err(e),
        };
        match done {
            Ok(n) => {
                let what = if on { "已公开" } else { "已关闭公示页" };
                (StatusCode::OK, (true, format!("{}的全部 {n} 个社区：{what}", account.scope)))
            }
            Err(e) => (e.status(), (false, e.parts().2)),
        }
    } else {
        match crate::public::set(&state, &account, form.community.trim(), on, names).await {
            Ok(()) => {
                let what = if on { "已公开" } else { "已关闭公示页" };
                (StatusCode::OK, (true, format!("社区 {}：{what}", form.community.trim())))
            }
            Err(e) => (e.status(), (false, e.parts().2)),
        }
    };
    match publicity_page(&state, &account, Some(message)).await {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => error_page(e),
    }
}

async fn publicity_page(state: &AppState, account: &Account, message: Option<(bool, String)>) -> AppResult<String> {
    let (page, _) = page_of(state, account, Nav::Publicity, &Filters::default()).await?;
    let on: std::collections::HashMap<String, crate::catalog::PublicPageRow> =
        state.catalog.public_pages().await?.into_iter().map(|r| (r.community_code.clone(), r)).collect();
    let lines: Vec<pages::public::PublicityLine> = page
        .options
        .communities
        .iter()
        .map(|c| {
            let row = on.get(&c.code);
            pages::public::PublicityLine {
                code: c.code.clone(),
                name: c.name.clone(),
                on: row.map(|r| (r.enabled_by.clone(), beijing_time(r.enabled_at))),
                show_names: row.is_some_and(|r| r.show_names == 1),
            }
        })
        .collect();
    let county_wide = matches!(account.scope, Scope::County(_)) && lines.len() > 1;
    Ok(pages::public::publicity(&page, &lines, county_wide, message.as_ref()))
}

// ---- 订阅与提醒 ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct AlertForm {
    pub condition: String,
    pub threshold: Option<String>,
    pub channel: String,
    pub target: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AlertDeleteForm {
    pub id: String,
}

/// `/alerts`: one's notices and subscriptions.
pub async fn alerts(State(state): State<AppState>, PageCaller(account): PageCaller) -> Response {
    html(alerts_page(&state, &account, None).await)
}

/// The 订阅 button of `/alerts`.
pub async fn alerts_create(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Form(form): Form<AlertForm>,
) -> Response {
    let done = async {
        let condition = crate::alerts::Condition::parse(form.condition.trim())
            .ok_or_else(|| AppError::bad_request("bad_condition", "请选择提醒条件"))?;
        let channel = crate::alerts::Channel::parse(form.channel.trim())
            .ok_or_else(|| AppError::bad_request("bad_channel", "请选择送达方式"))?;
        let threshold = match form.threshold.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if condition == crate::alerts::Condition::SatisfactionBelow => Some(
                t.parse::<f64>()
                    .map_err(|_| AppError::bad_request("bad_threshold", format!("满意率阈值应为数字，收到“{t}”")))?,
            ),
            _ => None,
        };
        let new = crate::alerts::NewSubscription { condition, threshold, channel, target: form.target.clone() };
        crate::alerts::subscribe(&state, &account, &new).await
    }
    .await;
    let (status, message) = match done {
        Ok(view) => (StatusCode::OK, (true, format!("已订阅：{}，{}", view.condition_label, view.channel_label))),
        Err(e) => (e.status(), (false, e.parts().2)),
    };
    match alerts_page(&state, &account, Some(message)).await {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => error_page(e),
    }
}

/// The 删除 buttons of `/alerts`.
pub async fn alerts_delete(
    State(state): State<AppState>,
    PageCaller(account): PageCaller,
    Form(form): Form<AlertDeleteForm>,
) -> Response {
    let done = match form.id.trim().parse::<i64>() {
        Ok(id) => crate::alerts::unsubscribe(&state, &account, id).await,
        Err(_) => Err(AppError::bad_request("bad_id", "订阅编号无效")),
    };
    let (status, message) = match done {
        Ok(()) => (StatusCode::OK, (true, "已删除订阅".to_string())),
        Err(e) => (e.status(), (false, e.parts().2)),
    };
    match alerts_page(&state, &account, Some(message)).await {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => error_page(e),
    }
}

async fn alerts_page(state: &AppState, account: &Account, message: Option<(bool, String)>) -> AppResult<String> {
    let (page, _) = page_of(state, account, Nav::Alerts, &Filters::default()).await?;
    let notices: Vec<pages::NoticeLine> = crate::alerts::notices(state, account, 50)
        .await?
        .into_iter()
        .map(|d| pages::NoticeLine { at: beijing_time(d.created_at), content: d.content })
        .collect();
    let lines = crate::alerts::subscription_lines(state, account).await?;
    let conditions: Vec<(&'static str, &'static str)> =
        crate::alerts::Condition::ALL.iter().map(|c| (c.token(), c.chinese())).collect();
    let channels: Vec<(&'static str, &'static str)> =
        crate::alerts::Channel::ALL.iter().map(|c| (c.token(), c.chinese())).collect();
    let view = pages::AlertsView {
        notices: &notices,
        subscriptions: &lines,
        conditions: &conditions,
        channels: &channels,
        max: crate::alerts::MAX_SUBSCRIPTIONS,
        message: message.as_ref(),
    };
    Ok(pages::alerts(&page, &view))
}
