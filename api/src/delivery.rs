//! Sending an alert: a JSON POST to a group robot's webhook (企业微信 and 钉钉 both take
//! `{"msgtype":"text","text":{"content":"…"}}`), or an e-mail over SMTP. Errors come back
//! as Chinese text for the delivery record, never with the webhook's key.
//!
//! A webhook is a URL an account chooses and the server requests: without a guard it would
//! let a county clerk make the server POST to the intranet, the host itself or a cloud
//! metadata service (SSRF). So a webhook whose host is, or resolves to, a loopback,
//! private, link-local or otherwise non-public address is refused when subscribed
//! ([`check_webhook`]) and again at every delivery, where the client's own resolver drops
//! such addresses, so a name that resolved to a public address at subscription and to
//! 10.0.0.1 now (DNS rebinding) is not reached. `--alert-allow-private-webhooks` lifts
//! the guard for robots inside the government network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use crate::alerts::redact_target;

/// The hint every refusal ends with.
const PRIVATE_HINT: &str = "为防止借提醒访问内网（SSRF），不向内网、本机或链路本地地址发送；\
                            确需发送到内网的群机器人，请由管理员以 --alert-allow-private-webhooks 启动服务";

/// Whether `ip` is an address of the public internet: not loopback, private (RFC 1918,
/// unique local), link-local (which holds cloud metadata at 169.254.169.254), shared
/// (100.64/10), unspecified, multicast, broadcast, documentation or reserved; an IPv4
/// address inside IPv6 (mapped, NAT64, 6to4) is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240;
    !(reserved
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation())
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    let site_local = first & 0xffc0 == 0xfec0;
    let documentation = first == 0x2001 && second == 0x0db8;
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local
        || documentation)
}

/// The IPv4 address an IPv6 address carries: `::ffff:a.b.c.d`, `::a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Why a webhook's host was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The host is, or resolves to, a non-public address.
    #[error("Webhook 地址的主机 {host} {how} {address}：{PRIVATE_HINT}")]
    Private { host: String, how: &'static str, address: IpAddr },
    /// The name did not resolve (now).
    #[error("Webhook 地址的主机 {host} 无法解析：{reason}")]
    Unresolved { host: String, reason: String },
}

/// The addresses `url`'s host stands for, each public unless `allow_private`.
pub async fn webhook_addresses(url: &url::Url, allow_private: bool) -> Result<Vec<IpAddr>, HostError> {
    let port = url.port_or_known_default().unwrap_or(443);
    let (host, addresses) = match url.host() {
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), vec![IpAddr::V4(ip)]),
        Some(url::Host::Ipv6(ip)) => (ip.to_string(), vec![IpAddr::V6(ip)]),
        Some(url::Host::Domain(name)) => (name.to_string(), resolve(name, port).await?),
        None => return Err(HostError::Unresolved { host: String::new(), reason: "没有主机名".into() }),
    };
    if !allow_private && let Some(address) = addresses.iter().copied().find(|ip| !is_public(*ip)) {
        let how = if url.host().is_some_and(|h| matches!(h, url::Host::Domain(_))) { "解析到" } else { "是" };
        return Err(HostError::Private { host, how, address });
    }
    Ok(addresses)
}

/// The addresses of `name`, within five seconds.
async fn resolve(name: &str, port: u16) -> Result<Vec<IpAddr>, HostError> {
    let unresolved = |reason: String| HostError::Unresolved { host: name.to_string(), reason };
    let found = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| unresolved("5 秒内没有答复".into()))?
        .map_err(|e| unresolved(e.to_string()))?;
    let addresses: Vec<IpAddr> = found.map(|a| a.ip()).collect();
    if addresses.is_empty() {
        return Err(unresolved("没有地址".into()));
    }
    Ok(addresses)
}

/// The resolver of the guarded client: the system's, without the non-public addresses,
/// so the connection goes only where [`webhook_addresses`] allowed, whatever the name
/// resolves to by then.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} 只解析到内网或本机地址").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// 企业微信 limits a text message to 2,048 bytes; 钉钉 to about 20,000.
const MAX_WEBHOOK_BYTES: usize = 2000;

/// The HTTP client: guarded (public addresses only) unless `allow_private`.
fn client(allow_private: bool) -> Result<&'static reqwest::Client, String> {
    static GUARDED: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    static OPEN: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    let build = |guarded: bool| {
        let builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            // A robot's address answers itself; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            // Not through a proxy from the environment: the guard is on the address
            // connected to.
            .no_proxy();
        let builder = if guarded { builder.dns_resolver(std::sync::Arc::new(PublicOnly)) } else { builder };
        builder.build().ok()
    };
    let cell = if allow_private { &OPEN } else { &GUARDED };
    cell.get_or_init(|| build(!allow_private)).as_ref().ok_or_else(|| "无法创建 HTTP 客户端".to_string())
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
/// Unless `allow_private`, a host that is or now resolves to a non-public address is not
/// contacted.
pub async fn webhook(url: &str, content: &str, allow_private: bool) -> Result<(), String> {
    let shown = redact_target(url);
    let parsed = url::Url::parse(url).map_err(|_| format!("Webhook 地址无效：{shown}"))?;
    webhook_addresses(&parsed, allow_private).await.map_err(|e| e.to_string())?;
    let answer = client(allow_private)?
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
    /// none (plain, for a relay on the local network), starttls (port 587), or tls
    /// (implicit, port 465).
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. "议事提醒 <yishi@example.cn>".
    pub from: String,
    /// A CA certificate (PEM) trusted besides the system's, for a mail server inside a
    /// government network with its own CA.
    pub extra_ca_pem: Option<Vec<u8>>,
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
            .field("extra_ca_pem", &self.extra_ca_pem.as_ref().map(Vec::len))
            .finish()
    }
}

/// How the SMTP connection is protected (TLS through the system's OpenSSL, `native-tls`;
/// lettre's rustls would rebuild DataFusion's TLS stack, see Cargo.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain: only for a relay on the local network.
    None,
    /// STARTTLS required (the connection is refused if the server does not offer it).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Option<SmtpSecurity> {
        match text {
            "none" | "无" => Some(SmtpSecurity::None),
            "starttls" | "STARTTLS" => Some(SmtpSecurity::StartTls),
            "tls" | "TLS" | "ssl" | "SSL" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }

    /// The usual port: 25, 587, 465.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

impl Smtp {
    /// How the connection is protected: `None` for plain; the server's certificate is
    /// checked against the system's CAs (and `extra_ca_pem`) for `host`.
    fn tls(&self) -> Result<Option<lettre::transport::smtp::client::Tls>, String> {
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        if self.security == SmtpSecurity::None {
            return Ok(None);
        }
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(pem) = &self.extra_ca_pem {
            let ca = Certificate::from_pem(pem).map_err(|e| format!("--smtp-ca-file 不是有效的 PEM 证书：{e}"))?;
            builder = builder.add_root_certificate(ca);
        }
        let parameters = builder.build_native().map_err(|e| format!("无法准备 SMTP 的 TLS 连接：{e}"))?;
        Ok(Some(match self.security {
            SmtpSecurity::Tls => Tls::Wrapper(parameters),
            _ => Tls::Required(parameters),
        }))
    }

    /// Mails `content` to `to` with the subject `【议事提醒】title` and `file` attached,
    /// protected as `security` says.
    pub async fn send(&self, to: &str, title: &str, content: &str, file: Option<&MailFile>) -> Result<(), String> {
        use lettre::message::header::{ContentTransferEncoding, ContentType};
        use lettre::message::{Attachment, Body, MultiPart, SinglePart};
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
        if let Some(tls) = self.tls()? {
            transport = transport.tls(tls);
        }
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
