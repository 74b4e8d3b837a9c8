//! Subscriptions and alerts (`api::alerts`, `/api/v1/subscriptions`), over the fixture
//! ledger (tests/fixtures/analyses) on a test clock, with a local webhook receiver (an
//! axum listener that answers 500 to the first request) and a local SMTP sink (a small
//! SMTP server on a TCP socket). Run on SQLite and, when YISHI_TEST_POSTGRES is set, on
//! PostgreSQL.
//!
//! Hand-worked overdue list on 2025-09-30 (the quarter's last day, as of which the list is
//! judged): topics and rectifications raised by then, deadline before it, not closed by it:
//! - 东岭社区 141026100001: topic T02 垃圾清运, due 2024-12-20, in progress: 11 days of
//!   December + 273 of 2025 up to 09-30 = 284 days; rectification R02 of topic T07 井盖缺失,
//!   due 2025-04-10, open: 20 + 31 + 30 + 31 + 31 + 30 = 173 days.
//! - 西岭社区 141026100002: topic U06 电梯故障, due 2025-03-31, pending: 30 + 31 + 30 + 31
//!   + 31 + 30 = 183 days.
//! - 乙县 141021: none (every topic closed on time).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::alerts::{self, Settings, TickReport};
use api::delivery::{Smtp, SmtpSecurity};
use api::schedule::NaiveDate;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::api::{Answer, call, chrono_free_nanos, skipped};
use crate::schemes::{get, page, server, server_with};
use crate::support::{fixture_warehouse, runtime};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// What the receiver saw: every request's body, and how many it accepted.
#[derive(Default)]
struct Received {
    requests: Vec<String>,
    accepted: Vec<String>,
}

/// A webhook receiver on 127.0.0.1 that answers 500 to its first request and then
/// `{"errcode":0,"errmsg":"ok"}` like a robot; returns its base URL.
async fn webhook_receiver(seen: Arc<Mutex<Received>>) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/robot",
        post(move |body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().expect("lock");
                seen.requests.push(body.clone());
                if seen.requests.len() == 1 {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "busy".to_string());
                }
                seen.accepted.push(body);
                (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// One mail the sink took: its envelope recipients and its data.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server (RFC 5321 without extensions) on 127.0.0.1; returns its port.
async fn smtp_sink(mails: Arc<Mutex<Vec<Mail>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(dialogue(socket, mails.clone(), false, true));
        }
    });
    port
}

/// How a TLS sink starts TLS.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SinkTls {
    /// Offers STARTTLS and upgrades when asked.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// An SMTP sink on 127.0.0.1 with TLS (the certificate of tests/fixtures/smtp for
/// localhost, signed by its test CA); returns its port.
async fn tls_smtp_sink(mails: Arc<Mutex<Vec<Mail>>>, mode: SinkTls) -> u16 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp");
    let (cert, key) =
        (std::fs::read(dir.join("cert.pem")).expect("cert"), std::fs::read(dir.join("key.pem")).expect("key"));
    let identity = native_tls::Identity::from_pkcs8(&cert, &key).expect("identity");
    let acceptor = tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).expect("acceptor"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (mails, acceptor) = (mails.clone(), acceptor.clone());
            tokio::spawn(async move {
                let plain = match mode {
                    SinkTls::StartTls => match dialogue(socket, mails.clone(), true, true).await {
                        Some(plain) => plain,
                        None => return,
                    },
                    SinkTls::Implicit => socket,
                };
                // A client that does not trust the certificate ends here.
                if let Ok(tls) = acceptor.accept(plain).await {
                    dialogue(tls, mails, false, mode == SinkTls::Implicit).await;
                }
            });
        }
    });
    port
}

/// One SMTP session on `stream`; with `starttls` it offers STARTTLS and, when asked,
/// answers 220 and gives the stream back for the TLS handshake.
async fn dialogue<S>(stream: S, mails: Arc<Mutex<Vec<Mail>>>, starttls: bool, greet: bool) -> Option<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    if greet {
        stream.write_all(b"220 sink ESMTP\r\n").await.ok()?;
    }
    let mut to = Vec::new();
    loop {
        let line = read_line(&mut stream).await?;
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            if starttls { "250-sink\r\n250 STARTTLS\r\n" } else { "250 sink\r\n" }.to_string()
        } else if upper.starts_with("HELO") {
            "250 sink\r\n".to_string()
        } else if upper == "STARTTLS" && starttls {
            stream.write_all(b"220 go ahead\r\n").await.ok()?;
            stream.flush().await.ok()?;
            return Some(stream.into_inner());
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            "250 OK\r\n".to_string()
        } else if upper.starts_with("DATA") {
            stream.write_all(b"354 go on\r\n").await.ok()?;
            let mut data = String::new();
            loop {
                let l = read_line(&mut stream).await?;
                if l == "." {
                    break;
                }
                data.push_str(&l);
                data.push('\n');
            }
            mails.lock().expect("lock").push(Mail { to: std::mem::take(&mut to), data });
            "250 queued\r\n".to_string()
        } else if upper.starts_with("QUIT") {
            let _ = stream.write_all(b"221 bye\r\n").await;
            return None;
        } else {
            "250 OK\r\n".to_string()
        };
        stream.write_all(answer.as_bytes()).await.ok()?;
    }
}

/// A line without its line end; `None` at the end of the stream.
async fn read_line<S: tokio::io::AsyncRead + Unpin>(stream: &mut BufReader<S>) -> Option<String> {
    let mut line = String::new();
    match stream.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
    }
}

/// Base64 (RFC 4648, with padding, line breaks ignored).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// The text body of a mail written with Content-Transfer-Encoding: base64.
fn mail_body(mail: &Mail) -> String {
    let (headers, body) = mail.data.split_once("\n\n").expect("headers and body");
    assert!(headers.contains("Content-Transfer-Encoding: base64"), "{headers}");
    String::from_utf8(base64_decode(body)).expect("utf-8 body")
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

async fn post_json(app: &axum::Router, token: &str, body: &str) -> Answer {
    call(
        app,
        Method::POST,
        "/api/v1/subscriptions",
        Some(token),
        Body::from(body.to_string()),
        Some("application/json"),
    )
    .await
}

const DONGLING_ALERT: &str = "【议事提醒】逾期未办结的议题和整改共 2 项\n\
                              东岭社区 整改 R02《井盖缺失》时限 2025-04-10，已逾期 173 天\n\
                              东岭社区 议题 T02《垃圾清运》时限 2024-12-20，已逾期 284 天";

const COUNTY_A_ALERT: &str = "【议事提醒】逾期未办结的议题和整改共 3 项\n\
                              东岭社区 整改 R02《井盖缺失》时限 2025-04-10，已逾期 173 天\n\
                              东岭社区 议题 T02《垃圾清运》时限 2024-12-20，已逾期 284 天\n\
                              西岭社区 议题 U06《电梯故障》时限 2025-03-31，已逾期 183 天";

/// The test server, started as with `--alert-allow-private-webhooks`: the receivers here
/// listen on 127.0.0.1.
async fn opted_in(root: &str, catalog: &str) -> (api::AppState, axum::Router, [String; 4]) {
    server_with(root, catalog, api::Config { allow_private_webhooks: true, ..api::Config::default() }).await
}

/// The whole story on the catalog at `catalog`.
async fn suite(root: &str, catalog: &str) {
    let _wh = fixture_warehouse(root).await;
    let (state, app, [_platform, county_a, county_b, dongling]) = opted_in(root, catalog).await;
    let received = Arc::new(Mutex::new(Received::default()));
    let base = webhook_receiver(received.clone()).await;
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp_port = smtp_sink(mails.clone()).await;

    // Subscriptions through the API. 东岭社区 (community token): overdue to a robot webhook
    // whose key must never be shown; 甲县 (county user): overdue by e-mail; 乙县: overdue
    // in-app (nothing is overdue there).
    let hook = format!("{base}/robot?key=SECRET-ROBOT-KEY");
    let made =
        post_json(&app, &dongling, &format!(r#"{{"condition":"overdue","channel":"webhook","target":"{hook}"}}"#))
            .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    assert!(!text(&made).contains("SECRET-ROBOT-KEY"), "{}", text(&made));
    assert_eq!(made.json()["target"], format!("{base}/robot?***"));
    assert_eq!(made.json()["condition_label"], "议题或整改逾期未办结");
    let hook_id = made.json()["id"].as_i64().expect("id");
    let made =
        post_json(&app, &county_a, r#"{"condition":"overdue","channel":"email","target":"clerk@example.cn"}"#).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let mail_id = made.json()["id"].as_i64().expect("id");
    let made = post_json(&app, &county_b, r#"{"condition":"overdue","channel":"in_app"}"#).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    let made = post_json(&app, &county_a, r#"{"condition":"overdue","channel":"in_app"}"#).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));

    // Refusals, in Chinese: not http(s), not JSON, a threshold out of range, an address.
    let bad =
        post_json(&app, &dongling, r#"{"condition":"overdue","channel":"webhook","target":"ftp://x.cn/a"}"#).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().is_some_and(|m| m.contains("http")), "{}", text(&bad));
    assert_eq!(post_json(&app, &dongling, "{").await.status, StatusCode::BAD_REQUEST);
    let high = r#"{"condition":"satisfaction_below","threshold":150,"channel":"in_app"}"#;
    assert_eq!(post_json(&app, &dongling, high).await.status, StatusCode::BAD_REQUEST);
    let mail = r#"{"condition":"overdue","channel":"email","target":"a@b.cn\r\nBcc: x@y.cn"}"#;
    assert_eq!(post_json(&app, &dongling, mail).await.status, StatusCode::BAD_REQUEST);

    // One's own list; another account's subscription cannot be deleted (404).
    let listed = get(&app, "/api/v1/subscriptions", &dongling).await;
    assert_eq!(listed.status, StatusCode::OK);
    let ids: Vec<i64> =
        listed.json()["subscriptions"].as_array().expect("list").iter().filter_map(|s| s["id"].as_i64()).collect();
    assert_eq!(ids, vec![hook_id]);
    let uri = format!("/api/v1/subscriptions/{mail_id}");
    let other = call(&app, Method::DELETE, &uri, Some(&dongling), Body::empty(), None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // The tick on the test clock: two alerts (东岭's and 甲县's), 乙县 none. The webhook
    // fails once (500), is retried after the backoff and delivered on the second attempt.
    let settings = Settings {
        every: Duration::from_secs(1),
        attempts_per_tick: 3,
        backoff: Duration::from_millis(50),
        max_attempts: 5,
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port: smtp_port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "议事提醒 <yishi@example.cn>".into(),
            extra_ca_pem: None,
        }),
        ..Settings::default()
    };
    let done = alerts::tick(&state, &settings, day("2025-09-30")).await;
    // Three new alerts (东岭's webhook, 甲县's e-mail and in-app notice; 乙县 has none), two
    // sent, one try failed.
    assert_eq!(done, TickReport { created: 3, delivered: 2, failed_attempts: 1 });
    {
        let seen = received.lock().expect("lock");
        assert_eq!(seen.requests.len(), 2, "one refused, one accepted");
        assert_eq!(seen.accepted.len(), 1);
        let message: serde_json::Value = serde_json::from_str(&seen.accepted[0]).expect("json");
        assert_eq!(message["msgtype"], "text");
        assert_eq!(message["text"]["content"], DONGLING_ALERT);
        // Only 东岭's rows: 西岭's overdue topic is not in its message.
        assert!(!seen.accepted[0].contains("U06") && !seen.accepted[0].contains("西岭"));
    }
    let hook_rows = alerts::deliveries(&state, hook_id).await.expect("deliveries");
    assert_eq!(hook_rows.len(), 1);
    assert_eq!((hook_rows[0].status.as_str(), hook_rows[0].attempts), ("delivered", 2));
    let error = hook_rows[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("HTTP 500") && !error.contains("SECRET"), "{error}");
    assert!(hook_rows[0].alert_key.starts_with("overdue:141026100001:"), "{}", hook_rows[0].alert_key);
    {
        let mails = mails.lock().expect("lock");
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["clerk@example.cn".to_string()]);
        // Mail text has CRLF line ends.
        let body = mail_body(&mails[0]).replace("\r\n", "\n");
        assert_eq!(body.trim_end(), COUNTY_A_ALERT);
        assert!(!body.contains("北岭"), "no 乙县 row");
        assert!(mails[0].data.contains("Subject: =?utf-8?"), "an encoded Chinese subject: {}", mails[0].data);
    }
    let mail_rows = alerts::deliveries(&state, mail_id).await.expect("deliveries");
    assert_eq!((mail_rows[0].status.as_str(), mail_rows[0].attempts), ("delivered", 1));

    // 甲县's clerk sees the notice on 订阅与提醒, counted in the navigation, and the state
    // of the e-mail subscription.
    let (status, html) = page(&state, &app, "scheme-a", "/alerts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h2>订阅与提醒</h2>") && html.contains("（1）</span>"), "{html}");
    assert!(html.contains("西岭社区 议题 U06《电梯故障》时限 2025-03-31，已逾期 183 天"), "{html}");
    assert!(html.contains("已送达（第 1 次尝试）") && html.contains("clerk@example.cn"), "{html}");
    let (_, other) = page(&state, &app, "scheme-p", "/alerts").await;
    assert!(other.contains("暂无站内提醒") && !other.contains("电梯故障"), "the platform user has no notice");

    // The next tick, the same day: nothing new, nothing sent. Three months later the same
    // items are still overdue (more days): the same set, so still nothing. The loop on a
    // test clock over several ticks: nothing either.
    assert_eq!(alerts::tick(&state, &settings, day("2025-09-30")).await, TickReport::default());
    assert_eq!(alerts::tick(&state, &settings, day("2025-12-31")).await, TickReport::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn(alerts::run(state.clone(), settings.clone(), FixedClock(day("2025-10-15")), async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let _ = stop.send(());
    looping.await.expect("the loop ends when told");
    assert_eq!(received.lock().expect("lock").requests.len(), 2);
    assert_eq!(mails.lock().expect("lock").len(), 1);

    // Deleting one's own subscription: 204, then it is gone (404 again).
    let uri = format!("/api/v1/subscriptions/{hook_id}");
    assert_eq!(
        call(&app, Method::DELETE, &uri, Some(&dongling), Body::empty(), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, Method::DELETE, &uri, Some(&dongling), Body::empty(), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(alerts::deliveries(&state, hook_id).await.expect("deliveries").is_empty());

    // At most 20 subscriptions per account: the 21st is refused with 409.
    for _ in 0..alerts::MAX_SUBSCRIPTIONS - 1 {
        let made = post_json(&app, &county_b, r#"{"condition":"no_meeting","channel":"in_app"}"#).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
    }
    let over = post_json(&app, &county_b, r#"{"condition":"no_meeting","channel":"in_app"}"#).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{}", text(&over));
    state.catalog.close().await;
}

/// A clock standing on one day.
struct FixedClock(NaiveDate);

impl api::schedule::Clock for FixedClock {
    fn today(&self) -> NaiveDate {
        self.0
    }
}

#[test]
fn an_alert_reaches_a_webhook_and_a_mailbox_once_with_only_the_recipient_s_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(suite(&root, &catalog));
}

#[test]
fn alerts_with_a_postgres_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    on_a_throwaway_postgres_database("alerts_with_a_postgres_catalog", "yishi_alerts", |url| async move {
        suite(&root, &url).await
    });
}

/// The other conditions on 2025-04-01 (2025 Q1 is the last quarter ended), hand-worked
/// from the fixture (see analyses::quarterly_figures_and_changes_match_hand_computation):
/// 东岭社区's Q1 satisfaction rate is 3 of 5 = 60% (E01 E02 satisfied, E03 basically, E04
/// E05 dissatisfied), 西岭社区's 2 of 2 = 100%, 南岭社区 has no evaluation (no rate, so no
/// alert).
#[test]
fn satisfaction_and_meeting_conditions_state_the_hand_worked_communities() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (state, _, _) = server(&root, &catalog).await;
        let county_a = ingest::Scope::county("141026").expect("code");
        let today = day("2025-04-01");
        let low = alerts::evaluate(&state, alerts::Condition::SatisfactionBelow, Some(80.0), &county_a, today)
            .await
            .expect("evaluate")
            .expect("an alert");
        assert_eq!(low.title, "2025年第1季度满意率低于 80% 的社区共 1 个");
        assert_eq!(low.lines, vec!["东岭社区 满意率 60.0%（阈值 80%）".to_string()]);
        assert!(low.key.starts_with("satisfaction_below:141026:2025Q1:80:"), "{}", low.key);
        // At 60% nobody is below: 东岭's 60% is not below 60.
        let none = alerts::evaluate(&state, alerts::Condition::SatisfactionBelow, Some(60.0), &county_a, today)
            .await
            .expect("evaluate");
        assert_eq!(none, None);

        // The written report: 甲县 has 2025 Q1 topics, so its Q1 documents are announced;
        // 乙县's ledger starts in 2025, so on 2025-01-02 (2024 Q4 due) nothing; a platform
        // account names no place.
        let doc = alerts::evaluate(&state, alerts::Condition::Document, None, &county_a, today)
            .await
            .expect("evaluate")
            .expect("an alert");
        assert_eq!(doc.title, "2025年第1季度说事议事工作满意度分析报告已可下载");
        assert_eq!(doc.lines[0], "Word：/api/v1/documents/report.docx?year=2025&quarter=1&county=141026");
        assert_eq!(doc.lines[1], "PDF：/api/v1/documents/report.pdf?year=2025&quarter=1&county=141026");
        let county_b = ingest::Scope::county("141021").expect("code");
        let early = alerts::evaluate(&state, alerts::Condition::Document, None, &county_b, day("2025-01-02")).await;
        assert_eq!(early.expect("evaluate"), None);
        let platform =
            alerts::evaluate(&state, alerts::Condition::Document, None, &ingest::Scope::Platform, today).await;
        assert_eq!(platform.expect("evaluate"), None);
        // 甲县 on 2025-01-02: 2024 Q4 with the year-end documents.
        let q4 = alerts::evaluate(&state, alerts::Condition::Document, None, &county_a, day("2025-01-02"))
            .await
            .expect("evaluate")
            .expect("an alert");
        assert_eq!(q4.lines.len(), 5, "{:?}", q4.lines);
        assert_eq!(q4.lines[2], "2024年度报告 Word：/api/v1/documents/report.docx?year=2024&county=141026");

        state.catalog.close().await;
    });
}

/// The bytes of a mail's attachment (the part with `Content-Disposition: attachment`,
/// base64) and that part's headers.
fn mail_attachment(mail: &Mail) -> (String, Vec<u8>) {
    let part = mail
        .data
        .split("\n--")
        .find(|part| part.contains("Content-Disposition: attachment"))
        .unwrap_or_else(|| panic!("no attachment: {}", mail.data));
    let (headers, body) = part.split_once("\n\n").expect("part headers and body");
    assert!(headers.contains("Content-Transfer-Encoding: base64"), "{headers}");
    (headers.to_string(), base64_decode(body))
}

/// Every entry of a zip in memory, by name, with its bytes.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read entry");
            (entry.name().expect("an entry name").to_string(), data)
        })
        .collect()
}

/// The text of every XML part of an office file (DOCX or XLSX), concatenated.
fn office_text(bytes: &[u8]) -> String {
    unzip(bytes)
        .into_iter()
        .filter(|(name, _)| name.ends_with(".xml"))
        .map(|(_, data)| String::from_utf8_lossy(&data).into_owned())
        .collect()
}

/// Pack and document subscriptions on 2025-04-01 (2025 Q1 due): 东岭社区's pack to a robot
/// webhook carries its own download link, absolute on the server's public address; 甲县's pack by e-mail attaches 甲县's zip (the
/// workbook without 乙县's 北岭社区); 乙县's document by e-mail attaches 乙县's Word file. The
/// download route gives a community its own pack and refuses another place (403), a
/// missing quarter and a platform account without a place (400).
#[test]
fn a_pack_or_document_subscription_carries_the_recipient_s_own_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (state, app, [platform, county_a, county_b, dongling]) = opted_in(&root, &catalog).await;
        let received = Arc::new(Mutex::new(Received::default()));
        let base = webhook_receiver(received.clone()).await;
        let mails = Arc::new(Mutex::new(Vec::new()));
        let smtp_port = smtp_sink(mails.clone()).await;
        let hook = format!(r#"{{"condition":"pack","channel":"webhook","target":"{base}/robot?key=K"}}"#);
        for (token, body) in [
            (&dongling, hook.as_str()),
            (&county_a, r#"{"condition":"pack","channel":"email","target":"a@example.cn"}"#),
            (&county_b, r#"{"condition":"document","channel":"email","target":"b@example.cn"}"#),
        ] {
            let made = post_json(&app, token, body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
        }
        let settings = Settings {
            backoff: Duration::from_millis(50),
            public_url: Some("https://yishi.example.gov.cn".into()),
            smtp: Some(Smtp {
                host: "127.0.0.1".into(),
                port: smtp_port,
                security: SmtpSecurity::None,
                username: None,
                password: None,
                from: "议事提醒 <yishi@example.cn>".into(),
                extra_ca_pem: None,
            }),
            ..Settings::default()
        };
        let done = alerts::tick(&state, &settings, day("2025-04-01")).await;
        assert_eq!(done, TickReport { created: 3, delivered: 3, failed_attempts: 1 });
        {
            let seen = received.lock().expect("lock");
            let message: serde_json::Value = serde_json::from_str(&seen.accepted[0]).expect("json");
            let content = message["text"]["content"].as_str().expect("content");
            assert!(content.starts_with("【议事提醒】2025年第1季度报表包（全部图表和工作簿）已可下载"), "{content}");
            let link = "报表包（zip）：https://yishi.example.gov.cn/api/v1/packs/pack.zip?year=2025&quarter=1&community=141026100001";
            assert!(content.contains(link), "{content}");
        }
        let mails = mails.lock().expect("lock").clone();
        assert_eq!(mails.len(), 2);
        let to_a = mails.iter().find(|m| m.to == ["a@example.cn"]).expect("甲县's mail");
        let (headers, zip) = mail_attachment(to_a);
        assert!(headers.contains("application/zip"), "{headers}");
        let files = unzip(&zip);
        assert_eq!(files.len(), 17, "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
        let (_, workbook) = files.iter().find(|(n, _)| n == "2025年第1季度_满意度分析_甲县.xlsx").expect("workbook");
        let sheets = office_text(workbook);
        assert!(sheets.contains("东岭社区") && sheets.contains("西岭社区"), "甲县's communities");
        assert!(!sheets.contains("北岭社区") && !sheets.contains("乙县"), "nothing of 乙县");
        let to_b = mails.iter().find(|m| m.to == ["b@example.cn"]).expect("乙县's mail");
        let (headers, docx) = mail_attachment(to_b);
        assert!(headers.contains("wordprocessingml"), "{headers}");
        let words = office_text(&docx);
        assert!(words.contains("乙县2025年第一季度说事议事工作满意度分析报告"), "乙县's own document");
        assert!(!words.contains("东岭社区"), "nothing of 甲县");

        // The download: one's own pack; another place, no quarter, no place: refused.
        let own = get(&app, "/api/v1/packs/pack.zip?year=2025&quarter=1", &dongling).await;
        assert_eq!(own.status, StatusCode::OK, "{}", text(&own));
        assert_eq!(own.headers["content-type"], "application/zip");
        let names: Vec<String> = unzip(&own.body).into_iter().map(|(n, _)| n).collect();
        assert!(names.iter().all(|n| n.contains("_东岭社区.")), "{names:?}");
        for (uri, token, status) in [
            ("/api/v1/packs/pack.zip?year=2025&quarter=1&community=141026100002", &dongling, StatusCode::FORBIDDEN),
            ("/api/v1/packs/pack.zip?year=2025&quarter=1&county=141026", &county_b, StatusCode::FORBIDDEN),
            ("/api/v1/packs/pack.zip?year=2025", &county_a, StatusCode::BAD_REQUEST),
            ("/api/v1/packs/pack.zip?year=2025&quarter=1", &platform, StatusCode::BAD_REQUEST),
            ("/api/v1/packs/pack.rar?year=2025&quarter=1", &county_a, StatusCode::NOT_FOUND),
        ] {
            assert_eq!(get(&app, uri, token).await.status, status, "{uri}");
        }
        state.catalog.close().await;
    });
}

/// Hand-picked addresses: the non-public ranges, IPv4 inside IPv6, and public ones.
#[test]
fn only_public_addresses_are_public() {
    use api::delivery::is_public;
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "203.0.113.9",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "fc12::3",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:c0a8:0101::1",
        "2001:db8::1",
    ] {
        assert!(!is_public(private.parse().expect("address")), "{private} is not public");
    }
    for public in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2400:3200::1", "::ffff:8.8.8.8"] {
        assert!(is_public(public.parse().expect("address")), "{public} is public");
    }
}

/// Without `--alert-allow-private-webhooks`: webhooks to loopback, private, link-local
/// (the cloud metadata address) and a name that resolves to loopback are refused when
/// subscribed (400 `private_webhook`, in Chinese, naming the option); a public address is
/// accepted. A subscription made while private webhooks were allowed is not delivered by
/// a server that does not allow them (the check at delivery: the host now resolves to
/// loopback, as after DNS rebinding): nothing reaches the receiver, the error is recorded;
/// the server that allows them delivers it.
#[test]
fn webhooks_to_private_addresses_are_refused_unless_the_server_allows_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (strict, app, [_platform, _county_a, county_b, dongling]) = server(&root, &catalog).await;
        let received = Arc::new(Mutex::new(Received::default()));
        let base = webhook_receiver(received.clone()).await;
        let port = base.rsplit(':').next().expect("port");
        let local_name = format!("http://localhost:{port}/robot?key=K");
        for target in [
            format!("{base}/robot?key=K"),
            local_name.clone(),
            "http://10.0.0.5/robot".to_string(),
            "http://192.168.1.10:8080/robot".to_string(),
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "http://[::1]:8080/robot".to_string(),
            "http://[::ffff:127.0.0.1]/robot".to_string(),
            "http://0.0.0.0/robot".to_string(),
        ] {
            let body = format!(r#"{{"condition":"overdue","channel":"webhook","target":"{target}"}}"#);
            let refused = post_json(&app, &dongling, &body).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{target}: {}", text(&refused));
            assert_eq!(refused.json()["code"], "private_webhook", "{target}");
            let message = refused.json()["message"].as_str().unwrap_or_default().to_string();
            assert!(message.contains("内网") && message.contains("--alert-allow-private-webhooks"), "{message}");
            assert!(!message.contains("key=K"), "{message}");
        }
        // A public address (乙县 has nothing overdue: nothing is ever sent there).
        let public = r#"{"condition":"overdue","channel":"webhook","target":"https://8.8.8.8/robot"}"#;
        assert_eq!(post_json(&app, &county_b, public).await.status, StatusCode::CREATED);

        // A second server on the same catalog (the same accounts and tokens), allowing them.
        let wh = warehouse::Warehouse::open(&root).await.expect("open");
        let config = api::Config { allow_private_webhooks: true, ..api::Config::default() };
        let open = api::AppState::new(wh, api::Catalog::open(&catalog).await.expect("catalog"), config);
        let open_app = api::router(open.clone());
        let body = format!(r#"{{"condition":"overdue","channel":"webhook","target":"{local_name}"}}"#);
        let made = post_json(&open_app, &dongling, &body).await;
        assert_eq!(made.status, StatusCode::CREATED, "allowed: {}", text(&made));
        let id = made.json()["id"].as_i64().expect("id");

        let settings = Settings { backoff: Duration::from_millis(10), attempts_per_tick: 1, ..Settings::default() };
        let done = alerts::tick(&strict, &settings, day("2025-09-30")).await;
        assert_eq!(done, TickReport { created: 1, delivered: 0, failed_attempts: 1 });
        assert!(received.lock().expect("lock").requests.is_empty(), "nothing reached the receiver");
        let rows = alerts::deliveries(&strict, id).await.expect("deliveries");
        let error = rows[0].last_error.clone().unwrap_or_default();
        assert_eq!(rows[0].status, "pending");
        assert!(error.contains("localhost") && error.contains("解析到") && error.contains("内网"), "{error}");

        // The receiver refuses its first request (500), then accepts.
        let settings = Settings { attempts_per_tick: 3, ..settings };
        let done = alerts::tick(&open, &settings, day("2025-09-30")).await;
        assert_eq!(done, TickReport { created: 0, delivered: 1, failed_attempts: 1 });
        assert_eq!(received.lock().expect("lock").accepted.len(), 1);
        strict.catalog.close().await;
        open.catalog.close().await;
    });
}

/// The half-months: the last one ended before a day, and its bounds.
#[test]
fn the_last_completed_half_month() {
    use warehouse::analyses::HalfMonth;
    let half = |d: &str| HalfMonth::last_completed(day(d));
    assert_eq!(half("2025-01-15").chinese(), "2024年12月下半月", "the 15th: its first half not ended yet");
    assert_eq!(half("2025-01-16").chinese(), "2025年1月上半月");
    assert_eq!(half("2025-10-01").chinese(), "2025年9月下半月");
    assert_eq!((half("2025-03-01").first_day(), half("2025-03-01").last_day()), (day("2025-02-16"), day("2025-02-28")));
    assert_eq!(half("2024-03-10").last_day(), day("2024-02-29"));
    assert_eq!(half("2025-01-01").last_day(), day("2024-12-31"));
    assert_eq!((half("2025-09-20").first_day(), half("2025-09-20").last_day()), (day("2025-09-01"), day("2025-09-15")));
}

/// 「半月内未召开例会」 hand-worked from tests/fixtures/analyses/sessions.csv (regular
/// sessions: 东岭 S1 2024-12-15, S2 01-15, S3 01-30, S5 04-15, and S4 02-10 urgent; 西岭
/// S1 02-15; 南岭 none; 乙县's 北岭 S1 03-15):
/// - 2025-01-15 → 2024年12月下半月 (12-16…31): S1 on the 15th is the first half: all three
///   of 甲县;
/// - 2025-01-16 → 2025年1月上半月 (the 15th included): 东岭 held S2; 西岭 and 南岭 not;
/// - 2025-02-16 → 2月上半月: 东岭's urgent S4 does not count, 西岭 held S1 on the 15th:
///   东岭 and 南岭;
/// - 2025-04-01 → 3月下半月: 甲县 all three; 乙县 北岭 (its S1 was in the first half);
/// - 乙县 on 2025-03-16 (3月上半月, S1 held) and on 2025-01-02 (2024, no ledger): nothing;
/// - 西岭社区's own account on 2025-02-16: nothing; on 2025-01-16: itself only.
#[test]
fn the_meeting_alert_names_the_half_month_and_its_communities() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (state, _, _) = server(&root, &catalog).await;
        let county_a = ingest::Scope::county("141026").expect("code");
        let county_b = ingest::Scope::county("141021").expect("code");
        let xiling = ingest::Scope::community("141026100002").expect("code");
        let alert = |scope: ingest::Scope, on: &'static str| {
            let state = state.clone();
            async move {
                alerts::evaluate(&state, alerts::Condition::NoMeeting, None, &scope, day(on)).await.expect("evaluate")
            }
        };
        let lines = |period: &str, names: &[&str]| -> Vec<String> {
            names.iter().map(|n| format!("{n} {period}未召开例会")).collect()
        };

        let december = alert(county_a.clone(), "2025-01-15").await.expect("an alert");
        assert_eq!(december.title, "2024年12月下半月未召开例会的社区共 3 个");
        assert_eq!(december.lines, lines("2024年12月下半月", &["东岭社区", "西岭社区", "南岭社区"]));
        assert!(december.key.starts_with("no_meeting:141026:2024-12-2:"), "{}", december.key);

        let january = alert(county_a.clone(), "2025-01-16").await.expect("an alert");
        assert_eq!(january.title, "2025年1月上半月未召开例会的社区共 2 个");
        assert_eq!(january.lines, lines("2025年1月上半月", &["西岭社区", "南岭社区"]));

        let february = alert(county_a.clone(), "2025-02-16").await.expect("an alert");
        assert_eq!(february.lines, lines("2025年2月上半月", &["东岭社区", "南岭社区"]));

        let march = alert(county_a.clone(), "2025-04-01").await.expect("an alert");
        assert_eq!(march.lines, lines("2025年3月下半月", &["东岭社区", "西岭社区", "南岭社区"]));
        let north = alert(county_b.clone(), "2025-04-01").await.expect("an alert");
        assert_eq!(north.lines, lines("2025年3月下半月", &["北岭社区"]));
        assert_eq!(alert(county_b.clone(), "2025-03-16").await, None);
        assert_eq!(alert(county_b, "2025-01-02").await, None);

        assert_eq!(alert(xiling.clone(), "2025-02-16").await, None);
        let own = alert(xiling, "2025-01-16").await.expect("an alert");
        assert_eq!(own.lines, lines("2025年1月上半月", &["西岭社区"]));
        state.catalog.close().await;
    });
}

/// A webhook receiver on 127.0.0.1 that takes `delay` over each request (a slow robot
/// widens the window in which two servers could both send) and accepts every one; each
/// body is kept. Returns its base URL.
async fn slow_receiver(bodies: Arc<Mutex<Vec<String>>>, delay: Duration) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/robot",
        post(move |body: String| {
            let bodies = bodies.clone();
            async move {
                tokio::time::sleep(delay).await;
                bodies.lock().expect("lock").push(body);
                (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Two servers (two `AppState`s, each with its own pool, warehouse and claimer id) on one
/// PostgreSQL catalog tick at the same moment, three rounds; the robot takes 300 ms per
/// POST. Four alerts on 2025-09-30 (东岭's and 甲县's overdue items, 东岭's and 甲县's
/// 2025年9月上半月 without a regular session), each to a webhook: the receiver gets each
/// exactly once, both servers together report four deliveries, and every delivery is
/// `delivered` after one attempt with its claim released.
#[test]
fn two_servers_on_one_postgres_catalog_send_each_delivery_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    on_a_throwaway_postgres_database(
        "two_servers_on_one_postgres_catalog_send_each_delivery_once",
        "yishi_claims",
        |url| async move { two_servers(&root, &url).await },
    );
}

/// Runs `body` with the URL of a new PostgreSQL database (named `prefix`_…) on the
/// `YISHI_TEST_POSTGRES` server, and drops it afterwards; says SKIPPED without a server
/// (fails instead under `YISHI_REQUIRE_POSTGRES`).
fn on_a_throwaway_postgres_database<F, Fut>(test: &str, prefix: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Ok(admin) = std::env::var("YISHI_TEST_POSTGRES") else {
        skipped(&format!("SKIPPED {test}: YISHI_TEST_POSTGRES is not set"));
        return;
    };
    runtime().block_on(async {
        use sqlx::Connection;
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                assert!(std::env::var("YISHI_REQUIRE_POSTGRES").is_err(), "PostgreSQL unreachable: {e}");
                skipped(&format!("SKIPPED {test}: {e}"));
                return;
            }
        };
        let name = format!("{prefix}_{}_{}", std::process::id(), chrono_free_nanos());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.expect("create");
        let (base, _) = admin.rsplit_once('/').expect("YISHI_TEST_POSTGRES ends with /database");
        body(format!("{base}/{name}")).await;
        // Cleanup, not the test: a background worker of the server (autovacuum) may still be
        // in the new database for a moment, which FORCE may not end; try a few times.
        for attempt in 0..5 {
            let dropped = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut conn)
                .await;
            match dropped {
                Ok(_) => break,
                Err(e) if attempt == 4 => skipped(&format!("{test}: {name} not dropped: {e}")),
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    });
}

async fn two_servers(root: &str, catalog: &str) {
    let _wh = fixture_warehouse(root).await;
    let (first, app, [_platform, county_a, _county_b, dongling]) = opted_in(root, catalog).await;
    let config = api::Config { allow_private_webhooks: true, ..api::Config::default() };
    let wh = warehouse::Warehouse::open(root).await.expect("open");
    let second = api::AppState::new(wh, api::Catalog::open(catalog).await.expect("catalog"), config);
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let base = slow_receiver(bodies.clone(), Duration::from_millis(300)).await;
    for token in [&dongling, &county_a] {
        for condition in ["overdue", "no_meeting"] {
            let body = format!(r#"{{"condition":"{condition}","channel":"webhook","target":"{base}/robot"}}"#);
            let made = post_json(&app, token, &body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
        }
    }
    let (one, two) = (Settings::default(), Settings::default());
    assert_ne!(one.claimer, two.claimer);
    let mut delivered = 0;
    let mut created = 0;
    for _ in 0..3 {
        let (a, b) =
            tokio::join!(alerts::tick(&first, &one, day("2025-09-30")), alerts::tick(&second, &two, day("2025-09-30")));
        delivered += a.delivered + b.delivered;
        created += a.created + b.created;
        assert_eq!(a.failed_attempts + b.failed_attempts, 0);
    }
    let bodies = bodies.lock().expect("lock").clone();
    assert_eq!((created, delivered, bodies.len()), (4, 4, 4), "{bodies:#?}");
    let mut unique = bodies.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "no message twice: {bodies:#?}");
    assert!(bodies.iter().any(|b| b.contains("2025年9月上半月未召开例会")), "{bodies:#?}");
    let pool = sqlx::PgPool::connect(catalog).await.expect("catalog");
    let rows: Vec<(String, i64, Option<String>)> =
        sqlx::query_as("SELECT status, attempts, claimed_by FROM deliveries ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("deliveries");
    pool.close().await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r == &("delivered".to_string(), 1, None)), "{rows:?}");
    first.catalog.close().await;
    second.catalog.close().await;
}

/// Alert e-mail over STARTTLS and over implicit TLS to a sink with a certificate for
/// localhost signed by a test CA, trusted through `extra_ca_pem` (`--smtp-ca-file`): 甲县's
/// overdue alert arrives whole each way. Without the CA the certificate is not trusted:
/// nothing is delivered and the error is recorded.
#[test]
fn alert_mail_over_starttls_and_implicit_tls() {
    let ca =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/ca.pem")).expect("ca");
    for (mode, security, trusted) in [
        (SinkTls::StartTls, SmtpSecurity::StartTls, true),
        (SinkTls::Implicit, SmtpSecurity::Tls, true),
        (SinkTls::Implicit, SmtpSecurity::Tls, false),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
        let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
        runtime().block_on(async {
            let _wh = fixture_warehouse(&root).await;
            let (state, app, [_platform, county_a, _county_b, _dongling]) = server(&root, &catalog).await;
            let mails = Arc::new(Mutex::new(Vec::new()));
            let port = tls_smtp_sink(mails.clone(), mode).await;
            let made =
                post_json(&app, &county_a, r#"{"condition":"overdue","channel":"email","target":"c@example.cn"}"#)
                    .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", text(&made));
            let id = made.json()["id"].as_i64().expect("id");
            let settings = Settings {
                attempts_per_tick: 1,
                smtp: Some(Smtp {
                    host: "localhost".into(),
                    port,
                    security,
                    username: None,
                    password: None,
                    from: "议事提醒 <yishi@example.cn>".into(),
                    extra_ca_pem: trusted.then(|| ca.clone()),
                }),
                ..Settings::default()
            };
            let done = alerts::tick(&state, &settings, day("2025-09-30")).await;
            let mails = mails.lock().expect("lock").clone();
            if trusted {
                assert_eq!(done, TickReport { created: 1, delivered: 1, failed_attempts: 0 }, "{mode:?}");
                assert_eq!(mails.len(), 1, "{mode:?}");
                assert_eq!(mail_body(&mails[0]).replace("\r\n", "\n").trim_end(), COUNTY_A_ALERT);
            } else {
                assert_eq!(done, TickReport { created: 1, delivered: 0, failed_attempts: 1 });
                assert!(mails.is_empty());
                let row = alerts::deliveries(&state, id).await.expect("deliveries").remove(0);
                let error = row.last_error.unwrap_or_default();
                assert!(row.status == "pending" && error.contains("发送失败"), "{error}");
                assert!(error.to_lowercase().contains("certificate"), "the certificate is named: {error}");
            }
            state.catalog.close().await;
        });
    }
}
