//! The login and the responses against an attacker, on a real server (`api::serve` on an
//! ephemeral loopback port, a SQLite catalog in a temporary folder, over HTTP):
//!
//! - failed logins are throttled per user name and per client address (429, `Retry-After`,
//!   the Chinese message, no password checked while locked, one audit row per lock), and a
//!   flood of unknown names neither stalls the server nor hashes more than two at once;
//! - only a path on this site is followed after login (no open redirect);
//! - every response carries the security headers.
//!
//! The flood comes from many loopback addresses (127.0.0.2 …), as Linux routes all of
//! 127.0.0.0/8 to the loopback interface.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use api::AppState;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ingest::Scope;

use crate::support::runtime;

const CLERK: &str = "clerk";
const CLERK_PASSWORD: &str = "clerk-password-1";
const OTHER: &str = "other";
const OTHER_PASSWORD: &str = "other-password-1";

/// The page policy the brief asks for, word for word.
const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

type Http = Client<HttpConnector, Full<Bytes>>;

/// An HTTP client whose connections come from `local` (any loopback address on Linux).
fn client_from(local: Option<IpAddr>) -> Http {
    let mut connector = HttpConnector::new();
    connector.set_local_address(local);
    Client::builder(TokioExecutor::new()).build(connector)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// `api::serve` on 127.0.0.1:0 over the shared warehouse and a fresh SQLite catalog with
/// two users.
struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
        let state = crate::api::state(&url).await;
        let county = Scope::county("141026").expect("code");
        state.catalog.add_user(CLERK, "办事员", CLERK_PASSWORD, &county).await.expect("user");
        state.catalog.add_user(OTHER, "另一位", OTHER_PASSWORD, &Scope::Platform).await.expect("user");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(api::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Server { addr, state, stop, task, _dir: dir }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let stopped = tokio::time::timeout(Duration::from_secs(20), self.task).await;
        stopped.expect("the server stops").expect("join").expect("serve");
    }

    async fn send(&self, client: &Http, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut req = Request::builder().method(method).uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body.to_string()))).expect("request");
        let response = client.request(req).await.expect("HTTP");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    async fn get(&self, client: &Http, path: &str, cookie: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        self.send(client, Method::GET, path, &headers, "").await
    }

    /// Posts the login form; `next` is sent as given (already form-encoded).
    async fn login_raw(&self, client: &Http, username: &str, password: &str, next: &str) -> Answer {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", username)
            .append_pair("password", password)
            .finish();
        let body = format!("{form}&next={next}");
        let ctype = [("content-type", "application/x-www-form-urlencoded")];
        self.send(client, Method::POST, "/login", &ctype, &body).await
    }

    async fn login(&self, client: &Http, username: &str, password: &str) -> Answer {
        self.login_raw(client, username, password, "%2Foverview").await
    }

    async fn audit(&self, action: &str) -> Vec<api::catalog::AuditRow> {
        self.state.catalog.audit_log(&Scope::Platform, Some(action), 1000).await.expect("audit")
    }
}

/// Five wrong passwords lock the name: the sixth attempt, the right password and the same
/// name in other case and spacing are refused with 429, `Retry-After` and the message,
/// without a password check, audited once; another user still signs in from the same
/// address.
#[test]
fn failed_logins_are_throttled_per_name() {
    crate::api::warehouse_dir();
    runtime().block_on(async {
        let server = Server::start().await;
        let client = client_from(None);
        for i in 1..=5 {
            let wrong = server.login(&client, CLERK, "wrong-password").await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {i}: {}", wrong.body);
            assert!(wrong.body.contains("用户名或密码不正确"));
        }
        let checked = server.state.hashing.stats().verified;
        assert_eq!(checked, 5);
        for (name, password, what) in [
            (CLERK, "wrong-password", "a sixth wrong password"),
            (CLERK, CLERK_PASSWORD, "the right password"),
            (" CLERK ", CLERK_PASSWORD, "the name in other case and spacing"),
        ] {
            let refused = server.login(&client, name, password).await;
            assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{what}: {}", refused.body);
            let retry: u64 = refused.header(header::RETRY_AFTER).parse().expect("Retry-After in seconds");
            assert!((800..=900).contains(&retry), "{what}: Retry-After {retry}");
            assert!(refused.body.contains("登录失败次数过多，请 15 分钟后再试"), "{what}: {}", refused.body);
            assert!(refused.headers.get(header::SET_COOKIE).is_none(), "{what}: signed in while locked");
            assert_eq!(refused.header(header::X_FRAME_OPTIONS), "DENY");
        }
        assert_eq!(server.state.hashing.stats().verified, checked, "a password was checked while locked");
        let other = server.login(&client, OTHER, OTHER_PASSWORD).await;
        assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
        assert!(other.header(header::SET_COOKIE).starts_with("yishi_session="));
        let throttled = server.audit("login_throttled").await;
        assert_eq!(throttled.len(), 1, "one row per lock: {throttled:?}");
        assert_eq!((throttled[0].target.as_str(), throttled[0].status), ("用户名 clerk", 429));
        assert_eq!(server.audit("login_failed").await.len(), 5);
        server.stop().await;
    });
}

/// 64 parallel loops of logins for unknown names from 32 addresses (under both limits):
/// every one is checked or refused by the full gate (503, `Retry-After`), at most two
/// hashes run at once, and `/healthz` answers within a second throughout. Then one address
/// floods: its 20th attempt locks it, the rest are 429 at once, audited once.
#[test]
fn a_flood_of_unknown_users_is_bounded() {
    crate::api::warehouse_dir();
    runtime().block_on(async {
        let server = Arc::new(Server::start().await);
        let done = Arc::new(AtomicBool::new(false));
        let probe = {
            let (server, done) = (server.clone(), done.clone());
            tokio::spawn(async move {
                let client = client_from(None);
                let (mut worst, mut probes) = (Duration::ZERO, 0);
                while !done.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let health = server.get(&client, "/healthz", None).await;
                    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
                    worst = worst.max(started.elapsed());
                    probes += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                (worst, probes)
            })
        };
        let started = Instant::now();
        let mut loops = Vec::new();
        for i in 0..64u8 {
            let server = server.clone();
            loops.push(tokio::spawn(async move {
                let client = client_from(Some(IpAddr::from([127, 0, 0, 2 + i / 2])));
                let mut answers = Vec::new();
                for j in 0..4 {
                    let a = server.login(&client, &format!("ghost-{i}-{j}"), "not-the-password").await;
                    answers.push((a.status, a.headers.contains_key(header::RETRY_AFTER)));
                }
                answers
            }));
        }
        let mut answers = Vec::new();
        for l in loops {
            answers.extend(l.await.expect("flood loop"));
        }
        let took = started.elapsed();
        // Keep probing a little after the flood, then stop.
        tokio::time::sleep(Duration::from_millis(100)).await;
        done.store(true, Ordering::SeqCst);
        let (worst, probes) = probe.await.expect("probe");
        let checked = answers.iter().filter(|(s, _)| *s == StatusCode::UNAUTHORIZED).count();
        let busy = answers.iter().filter(|(s, retry)| *s == StatusCode::SERVICE_UNAVAILABLE && *retry).count();
        eprintln!(
            "flood: {} attempts in {took:?}: {checked} checked, {busy} refused busy; /healthz worst {worst:?} of {probes}",
            answers.len()
        );
        assert_eq!(checked + busy, answers.len(), "only 401 or 503 with Retry-After: {answers:?}");
        let stats = server.state.hashing.stats();
        assert!(stats.peak_running <= 2, "{stats:?}");
        assert_eq!((stats.verified, stats.refused_busy), (checked as u64, busy as u64));
        assert!(took < Duration::from_secs(60), "the flood took {took:?}");
        assert!(probes >= 2, "the probe ran {probes} times");
        assert!(worst < Duration::from_secs(1), "/healthz took {worst:?} during the flood");

        // One address: 40 attempts, 8 at a time; the 20th locks it.
        let client = client_from(Some(IpAddr::from([127, 0, 0, 99])));
        let mut statuses = Vec::new();
        for round in 0..5 {
            let mut batch = Vec::new();
            for k in 0..8 {
                let (server, client) = (server.clone(), client.clone());
                batch.push(tokio::spawn(async move {
                    server.login(&client, &format!("nobody-{round}-{k}"), "not-the-password").await.status
                }));
            }
            for b in batch {
                statuses.push(b.await.expect("attempt"));
            }
        }
        let unauthorized = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
        let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((unauthorized, throttled), (20, 20), "{statuses:?}");
        let rows = server.audit("login_throttled").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].target, "地址 127.0.0.99");
        let (names, addresses) = server.state.logins.entries();
        // Attempts refused by the full gate were withdrawn: not every flooding address is left.
        assert!(names <= 296 && addresses <= 33, "{names} names, {addresses} addresses");
        let server = Arc::into_inner(server).expect("the last reference");
        server.stop().await;
    });
}

/// After login only a path on this site is followed; anything a browser could read as
/// another host goes to `/overview`.
#[test]
fn login_never_redirects_off_site() {
    crate::api::warehouse_dir();
    runtime().block_on(async {
        let server = Server::start().await;
        let client = client_from(None);
        for next in [
            "/%09/evil.example/x",
            "//evil.example",
            "/%5Cevil.example",
            "/\\evil.example",
            "https://evil.example",
            "https%3A%2F%2Fevil.example",
            "/%0d%0a/evil",
            "/%0a/evil.example",
            "%2F%2F%2Fevil.example",
        ] {
            let ok = server.login_raw(&client, OTHER, OTHER_PASSWORD, next).await;
            assert_eq!(ok.status, StatusCode::SEE_OTHER, "next={next}: {}", ok.body);
            assert_eq!(ok.header(header::LOCATION), "/overview", "next={next}");
        }
        let kept = server.login_raw(&client, OTHER, OTHER_PASSWORD, "%2Fquarterly%3Fyear%3D2025").await;
        assert_eq!((kept.status, kept.header(header::LOCATION)), (StatusCode::SEE_OTHER, "/quarterly?year=2025"));
        // The login page re-checks what it is given (the pages send `/login?next=<path>`).
        let form = server.get(&client, "/login?next=%2F%09%2Fevil.example%2Fx", None).await;
        assert!(form.body.contains("name=\"next\" value=\"/overview\""), "{}", form.body);
        let form = server.get(&client, "/login?next=%2Fcadres%3Fyear%3D2025", None).await;
        assert!(form.body.contains("name=\"next\" value=\"/cadres?year=2025\""), "{}", form.body);
        server.stop().await;
    });
}

/// Pages, JSON answers, errors (JSON and HTML), redirects and downloads all carry the
/// security headers; HTML gets the page policy, everything else a policy that loads and
/// runs nothing.
#[test]
fn every_response_carries_the_security_headers() {
    crate::api::warehouse_dir();
    runtime().block_on(async {
        let server = Server::start().await;
        let client = client_from(None);
        let signed_in = server.login(&client, OTHER, OTHER_PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        let cookie = signed_in.header(header::SET_COOKIE).split(';').next().expect("pair").to_string();
        let c = Some(cookie.as_str());
        let answers = [
            ("login page", server.get(&client, "/login", None).await, StatusCode::OK, true),
            ("page", server.get(&client, "/overview?year=2025", c).await, StatusCode::OK, true),
            ("error page", server.get(&client, "/overview?quarter=9", c).await, StatusCode::BAD_REQUEST, true),
            ("redirect to login", server.get(&client, "/overview", None).await, StatusCode::SEE_OTHER, false),
            ("login redirect", signed_in, StatusCode::SEE_OTHER, false),
            ("health", server.get(&client, "/healthz", None).await, StatusCode::OK, false),
            ("API JSON", server.get(&client, "/api/v1/me", c).await, StatusCode::OK, false),
            ("API error", server.get(&client, "/api/v1/me", None).await, StatusCode::UNAUTHORIZED, false),
            ("unknown path", server.get(&client, "/api/v1/nothing", None).await, StatusCode::NOT_FOUND, false),
            (
                "CSV download",
                server.get(&client, "/api/v1/reports/quarterly?year=2025&format=csv", c).await,
                StatusCode::OK,
                false,
            ),
            (
                "chart download",
                server.get(&client, "/api/v1/charts/satisfaction_trend.svg?year=2025&format=download", c).await,
                StatusCode::OK,
                false,
            ),
        ];
        for (what, a, status, html) in &answers {
            assert_eq!(a.status, *status, "{what}: {}", a.body);
            let csp = a.header(header::CONTENT_SECURITY_POLICY);
            if *html {
                assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"), "{what}");
                assert_eq!(csp, PAGE_CSP, "{what}");
            } else {
                assert!(
                    csp.starts_with("default-src 'none';") && csp.contains("frame-ancestors 'none'"),
                    "{what}: {csp}"
                );
                assert!(!csp.contains("script-src"), "{what}: {csp}");
            }
            assert_eq!(a.header(header::X_FRAME_OPTIONS), "DENY", "{what}");
            assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
            assert_eq!(a.header(header::REFERRER_POLICY), "same-origin", "{what}");
        }
        assert!(answers[9].1.header(header::CONTENT_DISPOSITION).contains("attachment"));
        server.stop().await;
    });
}
