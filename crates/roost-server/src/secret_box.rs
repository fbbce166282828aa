//! Integration secrets (an LLM provider's API key, later connector tokens) encrypted at rest
//! with XChaCha20-Poly1305 under the server's secrets key. The tenant and the secret's name
//! are the associated data, so a ciphertext copied to another tenant or name does not open.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use roost_db::TenantId;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Signs links handed to the outside world (photos in showcases); derived from the key,
    /// so it is not the encryption key itself.
    link_key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the secrets key must be 32 bytes of base64")]
    BadKey,
    /// Wrong key (the server's key changed) or a tampered row.
    #[error("a stored secret could not be decrypted with this server's secrets key")]
    Undecryptable,
}

fn aad(tenant: TenantId, name: &str) -> Vec<u8> {
    format!("roost-secret\0{}\0{name}", tenant.uuid()).into_bytes()
}

impl SecretBox {
    /// From 32 bytes in base64 (standard alphabet).
    pub fn from_b64(key: &str) -> Result<SecretBox, SecretBoxError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretBoxError::BadKey);
        }
        let mut derive = Sha256::new();
        derive.update(b"roost-link-key\0");
        derive.update(&bytes);
        Ok(SecretBox {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| SecretBoxError::BadKey)?,
            link_key: derive.finalize().into(),
        })
    }

    fn link_mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.link_key).expect("any key length");
        mac.update(message.as_bytes());
        mac
    }

    /// The hex HMAC-SHA256 of `message` under the link key.
    pub fn sign_link(&self, message: &str) -> String {
        hex::encode(self.link_mac(message).finalize().into_bytes())
    }

    /// Whether `sig` (hex) is [`SecretBox::sign_link`] of `message` (constant time).
    pub fn link_signed(&self, message: &str, sig: &str) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        self.link_mac(message).verify_slice(&sig).is_ok()
    }

    /// A fresh random key in base64.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// (nonce, ciphertext) of `plain`.
    pub fn seal(&self, tenant: TenantId, name: &str, plain: &str) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad(tenant, name);
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory sizes");
        (nonce.to_vec(), sealed)
    }

    pub fn open(
        &self,
        tenant: TenantId,
        name: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<String, SecretBoxError> {
        let nonce: [u8; 24] = nonce
            .try_into()
            .map_err(|_| SecretBoxError::Undecryptable)?;
        let aad = aad(tenant, name);
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretBoxError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretBoxError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn sealed_secrets_open_only_where_they_were_sealed() {
        let b = SecretBox::from_b64(&SecretBox::generate_key()).unwrap();
        let a = TenantId::from_verified(Uuid::new_v4());
        let other = TenantId::from_verified(Uuid::new_v4());
        let (nonce, sealed) = b.seal(a, "llm", "sk-secret");
        assert!(!sealed.windows(9).any(|w| w == b"sk-secret"));
        assert_eq!(b.open(a, "llm", &nonce, &sealed).unwrap(), "sk-secret");
        assert!(b.open(other, "llm", &nonce, &sealed).is_err());
        assert!(b.open(a, "crm", &nonce, &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert!(b.open(a, "llm", &nonce, &tampered).is_err());
        let other_key = SecretBox::from_b64(&SecretBox::generate_key()).unwrap();
        assert!(other_key.open(a, "llm", &nonce, &sealed).is_err());
        assert!(SecretBox::from_b64("c2hvcnQ=").is_err());
    }
}
