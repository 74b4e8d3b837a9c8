//! Who is calling, as typed extractors: [`Caller`] for the API (a bearer token or the
//! browser's session cookie; failures are JSON 401s) and [`PageCaller`] for pages (a
//! missing or expired session redirects to the login page). [`narrow`] turns the caller's
//! scope and the request's `county` / `community` filters into the scope the warehouse
//! enforces, refusing (403) a filter outside the caller's scope.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use ingest::Scope;

use crate::accounts::Account;
use crate::error::AppError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yishi_session";

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Account);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let text = value.to_str().unwrap_or_default().trim();
            let token = text
                .strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    AppError::unauthorized("bad_authorization", "Authorization 头的格式应为“Bearer 令牌”")
                })?;
            return Ok(Caller(state.catalog.token_account(token).await?));
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            if parts.method != Method::GET && parts.method != Method::HEAD && !same_origin(&parts.headers) {
                return Err(AppError::forbidden("cross_origin", "跨站请求被拒绝"));
            }
            return match state.catalog.session_account(&secret).await? {
                Some(account) => Ok(Caller(account)),
                None => Err(AppError::unauthorized("session_expired", "登录已过期，请重新登录")),
            };
        }
        Err(AppError::unauthorized("unauthorized", "需要登录，或在请求头中提供 Authorization: Bearer 令牌"))
    }
}

/// A signed-in browser user; anyone else is sent to the login page.
#[derive(Debug, Clone)]
pub struct PageCaller(pub Account);

/// Where an unauthenticated page request goes.
#[derive(Debug)]
pub struct ToLogin(String);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", urlencode(&self.0))).into_response()
    }
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<PageCaller, Response> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ToLogin(next).into_response());
        };
        if parts.method != Method::GET && parts.method != Method::HEAD && !same_origin(&parts.headers) {
            return Err(AppError::forbidden("cross_origin", "跨站请求被拒绝").into_response());
        }
        match state.catalog.session_account(&secret).await {
            Ok(Some(account)) => Ok(PageCaller(account)),
            Ok(None) => Err(ToLogin(next).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The value of a cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// A state-changing request made with a cookie must come from our own pages: its `Origin`
/// (browsers send it on POST) must name the host it was sent to. The cookie is also
/// `SameSite=Strict`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    !host.is_empty() && origin_host == host
}

/// The scope a request runs in: the caller's, narrowed by `county` / `community` filters.
/// A filter outside the caller's scope is refused with 403 (never silently emptied).
pub fn narrow(caller: &Scope, county: Option<&str>, community: Option<&str>) -> Result<Scope, AppError> {
    let county = county.map(str::trim).filter(|c| !c.is_empty());
    let community = community.map(str::trim).filter(|c| !c.is_empty());
    let mut scope = caller.clone();
    if let Some(code) = county {
        let wanted = Scope::county(code).map_err(|e| AppError::bad_request("bad_scope_code", e.to_string()))?;
        scope = match caller {
            Scope::Platform => wanted,
            Scope::County(own) if own == code => wanted,
            // A community account may name its own county: a filter, not a widening.
            Scope::Community(own) if own.starts_with(code) => caller.clone(),
            _ => return Err(forbidden(caller, &wanted)),
        };
    }
    if let Some(code) = community {
        let wanted = Scope::community(code).map_err(|e| AppError::bad_request("bad_scope_code", e.to_string()))?;
        if !crate::catalog::contains(caller, &wanted) {
            return Err(forbidden(caller, &wanted));
        }
        if let Some(c) = county.filter(|c| !code.starts_with(*c)) {
            return Err(AppError::bad_request("bad_scope_code", format!("社区 {code} 不属于县区 {c}")));
        }
        scope = wanted;
    }
    Ok(scope)
}

fn forbidden(caller: &Scope, wanted: &Scope) -> AppError {
    AppError::forbidden("forbidden_scope", format!("{caller}无权访问{}的数据", wanted.to_string().replace("账号", "")))
}

/// Percent-encodes a query value.
pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing() {
        let county = Scope::county("141026").expect("code");
        let own = "141026100001";
        assert_eq!(narrow(&Scope::Platform, Some("141021"), None).expect("ok"), Scope::county("141021").expect("c"));
        assert_eq!(narrow(&county, None, Some(own)).expect("ok"), Scope::community(own).expect("c"));
        assert_eq!(narrow(&county, Some("141021"), None).expect_err("other county").status(), 403);
        assert_eq!(narrow(&county, None, Some("141021100001")).expect_err("other").status(), 403);
        let community = Scope::community(own).expect("c");
        assert_eq!(narrow(&community, Some("141026"), None).expect("own county"), community);
        assert_eq!(narrow(&community, None, Some("141026100002")).expect_err("sibling").status(), 403);
        assert_eq!(narrow(&community, Some("x"), None).expect_err("bad").status(), 400);
    }
}
