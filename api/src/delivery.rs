//! Sending an alert: a JSON POST to a group robot's webhook (企业微信 and 钉钉 both take
//! `{"msgtype":"text","text":{"content":"…"}}`), or an e-mail over SMTP. Errors come back
//! as Chinese text for the delivery record, never with the webhook's key.

use std::sync::OnceLock;
use std::time::Duration;

use crate::alerts::redact_target;

/// 企业微信 limits a text message to 2,048 bytes; 钉钉 to about 20,000.
const MAX_WEBHOOK_BYTES: usize = 2000;

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                // A robot's address answers itself; a redirect elsewhere is not followed.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .ok()
        })
        .as_ref()
        .ok_or_else(|| "无法创建 HTTP 客户端".to_string())
}

/// `content` cut at a character boundary to at most `max` bytes.
fn cut(content: &str, max: usize) -> &str {
    if content.len() <= max {
        return content;
    }
    let mut end = max;
    while !content.is_char_boundary(end) {
        end -= 1;
    }
    &content[..end]
}

/// The robot message's JSON.
pub fn robot_message(content: &str) -> String {
    serde_json::json!({ "msgtype": "text", "text": { "content": cut(content, MAX_WEBHOOK_BYTES) } }).to_string()
}

/// POSTs `content` to `url`; Ok on a 2xx answer whose JSON (if any) has no non-zero
/// `errcode` (企业微信 and 钉钉 answer 200 with an errcode when they refuse a message).
pub async fn webhook(url: &str, content: &str) -> Result<(), String> {
    let shown = redact_target(url);
    let answer = client()?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(robot_message(content))
        .send()
        .await
        .map_err(|e| format!("无法送达 {shown}：{}", e.without_url()))?;
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{shown} 答复 HTTP {}", status.as_u16()));
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&body)
        && let Some(code) = value.get("errcode").and_then(serde_json::Value::as_i64)
        && code != 0
    {
        let message = value.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or("");
        return Err(format!("{shown} 拒收：errcode {code} {}", cut(message, 200)));
    }
    Ok(())
}

/// A file an e-mail carries (a document or a pack zip).
#[derive(Debug, Clone)]
pub struct MailFile {
    /// Its Chinese name, e.g. `2025年第1季度_报表包_甲县.zip`.
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The SMTP server alerts are mailed through.
#[derive(Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// none (plain, for a local relay), starttls, or tls (implicit, port 465).
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. "议事提醒 <yishi@example.cn>".
    pub from: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// How the SMTP connection is protected. Only `None` is sent with today: lettre's TLS
/// (rustls) needs rustls's `logging` feature, which rebuilds every crate over rustls
/// (object_store and DataFusion with it); the others are refused at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    None,
    StartTls,
    Tls,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Option<SmtpSecurity> {
        match text {
            "none" | "无" => Some(SmtpSecurity::None),
            "starttls" | "STARTTLS" => Some(SmtpSecurity::StartTls),
            "tls" | "TLS" | "ssl" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }
}

impl Smtp {
    /// Mails `content` to `to` with the subject `【议事提醒】title` and `file` attached, over
    /// plain SMTP (a relay on the local network; see [`SmtpSecurity`]).
    pub async fn send(&self, to: &str, title: &str, content: &str, file: Option<&MailFile>) -> Result<(), String> {
        use lettre::message::header::{ContentTransferEncoding, ContentType};
        use lettre::message::{Attachment, Body, MultiPart, SinglePart};
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        if self.security != SmtpSecurity::None {
            return Err("本版本只支持不加密的 SMTP 中继（--smtp-security none）".to_string());
        }
        let from = self.from.parse().map_err(|e| format!("发件人地址“{}”无效：{e}", self.from))?;
        let to = to.parse().map_err(|e| format!("收件人地址无效：{e}"))?;
        // Base64: 汉字 in 7-bit transport, the same for every server.
        let text = Body::new_with_encoding(content.to_string(), ContentTransferEncoding::Base64)
            .map_err(|_| "邮件正文无法编码".to_string())?;
        let builder = Message::builder().from(from).to(to).subject(format!("【议事提醒】{title}"));
        let message = match file {
            None => builder.header(ContentType::TEXT_PLAIN).body(text),
            Some(file) => {
                let kind = ContentType::parse(file.content_type).map_err(|e| format!("附件类型无效：{e}"))?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                        .singlepart(Attachment::new(file.name.clone()).body(file.bytes.clone(), kind)),
                )
            }
        }
        .map_err(|e| format!("邮件无法生成：{e}"))?;
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
        }
        transport
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP {}:{} 发送失败：{e}", self.host, self.port))
    }
}
