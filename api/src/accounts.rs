//! Accounts and their secrets: roles mapped to the warehouse's scopes, passwords as
//! argon2id hashes, API tokens and session ids random with a recognisable prefix and
//! stored only as SHA-256 hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ingest::Scope;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Prefix of every API token: a leaked token is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "yishi_";
/// Prefix of browser session ids (kept in a cookie).
pub const SESSION_PREFIX: &str = "yishis_";

/// What an account may see: the platform, one county, or one community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Platform,
    County,
    Community,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Platform => "platform",
            Role::County => "county",
            Role::Community => "community",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "platform" => Some(Role::Platform),
            "county" => Some(Role::County),
            "community" => Some(Role::Community),
            _ => None,
        }
    }

    pub fn of(scope: &Scope) -> Role {
        match scope {
            Scope::Platform => Role::Platform,
            Scope::County(_) => Role::County,
            Scope::Community(_) => Role::Community,
        }
    }
}

/// The scope stored for an account: role and code (none for the platform).
pub fn scope_from(role: &str, code: Option<&str>) -> Result<Scope, AppError> {
    let bad = || AppError::Internal(format!("账号范围无效：{role} {code:?}"));
    match (Role::parse(role), code) {
        (Some(Role::Platform), _) => Ok(Scope::Platform),
        (Some(Role::County), Some(c)) => Scope::county(c).map_err(|_| bad()),
        (Some(Role::Community), Some(c)) => Scope::community(c).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// The code stored beside the role.
pub fn scope_code(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::Platform => None,
        Scope::County(c) | Scope::Community(c) => Some(c),
    }
}

/// A scope as JSON: `{"kind": "platform"}`, `{"kind": "county", "code": "141026"}`,
/// `{"kind": "community", "code": "141026100001"}`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ScopeDoc {
    /// platform、county 或 community
    #[schema(pattern = "^(platform|county|community)$")]
    kind: String,
    /// 县区或社区代码（平台账号没有）
    #[schema(pattern = "^([0-9]{6}|[0-9]{12})$")]
    code: Option<String>,
}

/// Who is calling: the account name recorded in the batch log and the audit log, and the
/// scope every warehouse call of the request runs in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// User name, or the label of a token not bound to a user.
    pub name: String,
    /// Shown on pages.
    pub display_name: String,
    pub role: Role,
    #[schema(value_type = ScopeDoc)]
    pub scope: Scope,
    /// How the caller authenticated: "token" or "session".
    pub via: &'static str,
}

impl Account {
    pub fn county_code(&self) -> Option<&str> {
        self.scope.county_code()
    }

    pub fn community_code(&self) -> Option<&str> {
        match &self.scope {
            Scope::Community(c) => Some(c),
            _ => None,
        }
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string of the password with a random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    let hash = argon2().hash_password(password.as_bytes(), &salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether the password matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A new random secret with the prefix: 32 random bytes as hex.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// SHA-256 of a token or session id, hex: what the catalog stores and looks up.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a token that may be shown in lists (prefix and 6 characters).
pub fn display_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

/// Password rules: at least 8 characters.
pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::bad_request("weak_password", "密码至少需要 8 个字符"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secrets() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        let token = new_secret(TOKEN_PREFIX);
        assert!(token.starts_with("yishi_") && token.len() == 6 + 64);
        assert_ne!(secret_hash(&token), token);
        assert_eq!(secret_hash(&token).len(), 64);
    }
}
