//! Where a session's queries run: on this process's DataFusion (`local`, the default) or
//! on an Apache Ballista cluster (`ballista://HOST:50050`, a build with the cargo feature
//! `ballista`). Both read the same Delta snapshot; see `cluster.rs` for what is shipped.

use url::Url;

use crate::errors::{Result, WarehouseError};

/// The environment variable that names the engine (the CLI's `--engine`).
pub const ENGINE_ENV: &str = "YISHI_ENGINE";

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where reports and SQL queries run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion in this process.
    #[default]
    Local,
    /// A Ballista scheduler, `ballista://host:port`.
    Ballista { host: String, port: u16 },
}

static CONFIGURED: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();

/// Sets the engine of the warehouses this process opens (the first call wins: a CLI sets
/// it once at start); [`crate::Warehouse::with_engine`] overrides it for one warehouse.
pub fn configure_engine(engine: Engine) {
    let _ = CONFIGURED.set(engine);
}

/// The engine [`configure_engine`] set, local by default.
pub(crate) fn configured() -> Engine {
    CONFIGURED.get().cloned().unwrap_or_default()
}

impl Engine {
    /// `local` (or empty) or `ballista://HOST[:PORT]`. A build without the `ballista`
    /// feature refuses the latter, saying so.
    pub fn parse(text: &str) -> Result<Engine> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("local") {
            return Ok(Engine::Local);
        }
        let hint = "可用 local（本机计算，默认）或 ballista://调度器主机:50050";
        let url =
            Url::parse(text).map_err(|e| WarehouseError::Engine(format!("“{text}”不是有效的地址（{e}）；{hint}")))?;
        if url.scheme() != "ballista" {
            return Err(WarehouseError::Engine(format!("不支持的计算引擎“{text}”；{hint}")));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
            WarehouseError::Engine(format!("“{text}”缺少调度器主机名，例如 ballista://10.0.0.5:50050"))
        })?;
        if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
            return Err(WarehouseError::Engine(format!("“{text}”只应包含主机和端口，例如 ballista://10.0.0.5:50050")));
        }
        if !cfg!(feature = "ballista") {
            return Err(WarehouseError::Engine(format!(
                "这个 yishi 编译时没有包含 Ballista 分布式计算（cargo 功能 ballista），不能使用 --engine {text}；\
                 请用 `cargo build --release --features ballista` 编译的版本，或去掉 --engine（YISHI_ENGINE）在本机计算"
            )));
        }
        Ok(Engine::Ballista {
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port: url.port().unwrap_or(DEFAULT_SCHEDULER_PORT),
        })
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Engine::Local)
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Local => write!(f, "local"),
            Engine::Ballista { host, port } if host.contains(':') => write!(f, "ballista://[{host}]:{port}"),
            Engine::Ballista { host, port } => write!(f, "ballista://{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_local_and_refuses_others() {
        assert_eq!(Engine::parse("").ok(), Some(Engine::Local));
        assert_eq!(Engine::parse(" local ").ok(), Some(Engine::Local));
        assert!(Engine::parse("spark://x:1").is_err());
        assert!(Engine::parse("ballista://").is_err());
        assert!(Engine::parse("ballista://h:50050/x").is_err());
        let parsed = Engine::parse("ballista://10.0.0.5");
        if cfg!(feature = "ballista") {
            assert_eq!(parsed.ok(), Some(Engine::Ballista { host: "10.0.0.5".into(), port: 50050 }));
        } else {
            let message = parsed.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("没有包含 Ballista"), "{message}");
        }
    }
}
