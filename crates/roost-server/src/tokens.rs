//! Access tokens (HS256 JWTs, short-lived), refresh tokens (opaque, rotating, stored hashed)
//! and password hashing (argon2id).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const ISSUER: &str = "roost";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The tenant.
    pub tid: Uuid,
    /// The device (session); revoking it invalidates the token at once.
    pub dev: Uuid,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, user: Uuid, tenant: Uuid, device: Uuid, ttl_secs: u64) -> String {
        let now = now_secs();
        let claims = Claims {
            sub: user,
            tid: tenant,
            dev: device,
            iat: now,
            exp: now + ttl_secs,
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A new refresh token `<tenant>.<secret>`: the tenant part lets the server scope the lookup
/// to one tenant; only the SHA-256 of the whole token is stored.
pub fn new_refresh_token(tenant: Uuid) -> String {
    format!("{}.{}", tenant.simple(), random_b64(32))
}

/// The tenant a refresh token claims to belong to (checked by the hash lookup).
pub fn refresh_token_tenant(token: &str) -> Option<Uuid> {
    let (tenant, secret) = token.split_once('.')?;
    if secret.len() < 40 {
        return None;
    }
    Uuid::try_parse(tenant).ok()
}

pub fn sha256_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's minimum recommendation.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default params cannot fail")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifying against this when the email is unknown makes both failures take the same time,
/// so response timing does not reveal which accounts exist.
pub fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_b64(16)))
}

pub async fn hash_password_async(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .expect("hashing task does not panic")
}

pub async fn verify_password_async(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip_and_reject_forgeries() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let (u, t, d) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let token = keys.issue(u, t, d, 60);
        let c = keys.verify(&token).expect("valid");
        assert_eq!((c.sub, c.tid, c.dev), (u, t, d));

        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&token).is_none(), "signed with another key");
        let stale = Claims {
            sub: u,
            tid: t,
            dev: d,
            iat: now_secs() - 120,
            exp: now_secs() - 60,
            iss: ISSUER.into(),
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &stale, &keys.encoding).unwrap();
        assert!(keys.verify(&expired).is_none(), "expired");
        assert!(keys.verify("not.a.jwt").is_none());
    }

    #[test]
    fn refresh_tokens_carry_their_tenant() {
        let t = Uuid::now_v7();
        let token = new_refresh_token(t);
        assert_eq!(refresh_token_tenant(&token), Some(t));
        assert_eq!(refresh_token_tenant("garbage"), None);
        assert_eq!(refresh_token_tenant(&format!("{}.short", t.simple())), None);
        assert_ne!(new_refresh_token(t), token, "random");
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
