//! HMAC-SHA256 for webhook signatures, checked in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Lower-case hex of HMAC-SHA256(key, parts concatenated).
pub(crate) fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(mac(key, parts).finalize().into_bytes())
}

/// Whether `hex_sig` (either case) is HMAC-SHA256(key, parts). The comparison of the
/// digests is constant-time; only malformed hex returns early, which reveals nothing.
pub(crate) fn hmac_matches(key: &[u8], parts: &[&[u8]], hex_sig: &str) -> bool {
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    mac(key, parts).verify_slice(&given).is_ok()
}

/// Constant-time equality for short shared strings (verify tokens). Lengths are not secret.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 4231, test case 2.
        let sig = hmac_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_matches(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &sig.to_uppercase()
        ));
        assert!(!hmac_matches(b"Jefe", &[b"what do ya want"], &sig));
        assert!(!hmac_matches(b"Jefe", &[b"x"], "zz"));
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
