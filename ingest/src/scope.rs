//! Tenant scopes: who may read and write which communities' rows.

use std::fmt;

/// The tenant a caller acts for. A community is the tenant; a county account reads and
/// writes every community of its county; the platform sees all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    Platform,
    /// A 6-digit county code.
    County(String),
    /// A 12-digit community code.
    Community(String),
}

/// A code given for a scope that is not a county or community code.
#[derive(Debug, thiserror::Error)]
#[error("“{code}”不是有效的{what}代码（应为 {digits} 位数字）(bad_scope_code)")]
pub struct ScopeCodeError {
    pub code: String,
    pub what: &'static str,
    pub digits: usize,
}

impl Scope {
    pub fn county(code: &str) -> Result<Scope, ScopeCodeError> {
        check_digits(code, 6, "县区").map(|c| Scope::County(c.to_string()))
    }

    pub fn community(code: &str) -> Result<Scope, ScopeCodeError> {
        check_digits(code, 12, "社区").map(|c| Scope::Community(c.to_string()))
    }

    /// Whether rows of this community are inside the scope.
    pub fn admits(&self, community_code: &str) -> bool {
        match self {
            Scope::Platform => true,
            Scope::County(county) => community_code.len() == 12 && community_code.starts_with(county.as_str()),
            Scope::Community(community) => community_code == community,
        }
    }

    /// Whether the scope may write the communities reference table.
    pub fn may_write_communities(&self) -> bool {
        !matches!(self, Scope::Community(_))
    }

    /// The county whose rows the scope is limited to, if any.
    pub fn county_code(&self) -> Option<&str> {
        match self {
            Scope::Platform => None,
            Scope::County(c) => Some(c),
            Scope::Community(c) => c.get(..6),
        }
    }
}

fn check_digits<'a>(code: &'a str, digits: usize, what: &'static str) -> Result<&'a str, ScopeCodeError> {
    let code = code.trim();
    if code.len() == digits && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(ScopeCodeError { code: code.to_string(), what, digits })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Platform => f.write_str("平台账号"),
            Scope::County(c) => write!(f, "县区账号 {c}"),
            Scope::Community(c) => write!(f, "社区账号 {c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_scope_admits_only_its_communities() {
        let s = Scope::county("141026").expect("valid");
        assert!(s.admits("141026100001"));
        assert!(!s.admits("141021100001"));
        assert!(!s.admits("141026"));
        assert!(Scope::county("14102").is_err());
        assert!(Scope::community("14102610000X").is_err());
    }
}
