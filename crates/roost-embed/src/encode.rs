//! Compact byte forms of vectors for storage and sync.
//!
//! - f32 little-endian: exact, 4 bytes per dimension (1,536 for 384).
//! - int8 with one f32 scale per vector: 1 byte per dimension; each value
//!   is off by at most `scale / 2` (= max |x| / 254), which for unit vectors
//!   moves a cosine by well under 0.01.

use crate::EmbedError;

/// `v` as consecutive little-endian f32s.
pub fn encode_f32_le(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`encode_f32_le`]; fails unless `bytes` holds exactly `dim` f32s.
pub fn decode_f32_le(bytes: &[u8], dim: usize) -> Result<Vec<f32>, EmbedError> {
    let expected = dim.saturating_mul(4);
    if bytes.len() != expected {
        return Err(EmbedError::VectorBytes {
            dim,
            expected,
            actual: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Symmetric int8 quantisation with one scale per vector:
/// `x ≈ q as f32 * scale`, `scale = max |x| / 127`. An all-zero (or empty)
/// vector gets scale 0. Inputs are expected to be finite.
pub fn quantize_i8(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = v
        .iter()
        // `as` saturates, and the value is within ±127 anyway.
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

/// The inverse of [`quantize_i8`], up to rounding.
pub fn dequantize_i8(q: &[i8], scale: f32) -> Vec<f32> {
    q.iter().map(|&x| f32::from(x) * scale).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cosine;

    fn vector() -> impl Strategy<Value = Vec<f32>> {
        prop::collection::vec(-1.0e3f32..1.0e3, 0..512)
    }

    proptest! {
        #[test]
        fn f32_round_trip_is_exact(v in prop::collection::vec(any::<f32>(), 0..512)) {
            let bytes = encode_f32_le(&v);
            prop_assert_eq!(bytes.len(), v.len() * 4);
            let back = decode_f32_le(&bytes, v.len()).unwrap();
            // Bitwise, so that NaNs compare too.
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&back), bits(&v));
        }

        #[test]
        fn f32_decode_rejects_wrong_lengths(v in vector(), extra in 1usize..4) {
            let mut bytes = encode_f32_le(&v);
            bytes.extend(std::iter::repeat_n(0u8, extra));
            prop_assert!(decode_f32_le(&bytes, v.len()).is_err());
            prop_assert!(decode_f32_le(&bytes, v.len() + 1).is_err());
        }

        #[test]
        fn i8_round_trip_within_half_a_step(v in vector()) {
            let (q, scale) = quantize_i8(&v);
            prop_assert_eq!(q.len(), v.len());
            let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            prop_assert!((scale - max / 127.0).abs() <= f32::EPSILON * max);
            let back = dequantize_i8(&q, scale);
            for (x, y) in v.iter().zip(&back) {
                // Half a step, plus float rounding in the divide and multiply.
                prop_assert!((x - y).abs() <= scale * 0.5 + max * 1e-6, "{x} vs {y}, scale {scale}");
            }
        }

        #[test]
        fn i8_keeps_unit_vectors_close(v in prop::collection::vec(-1.0f32..1.0, 384)) {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            prop_assume!(norm > 1e-3);
            let unit: Vec<f32> = v.iter().map(|x| x / norm).collect();
            let (q, scale) = quantize_i8(&unit);
            prop_assert!(cosine(&unit, &dequantize_i8(&q, scale)) > 0.999);
        }
    }

    #[test]
    fn i8_edge_cases() {
        assert_eq!(quantize_i8(&[]), (vec![], 0.0));
        assert_eq!(quantize_i8(&[0.0, -0.0]), (vec![0, 0], 0.0));
        let (q, scale) = quantize_i8(&[2.0, -2.0, 1.0]);
        assert_eq!(q, vec![127, -127, 64]);
        assert!((scale - 2.0 / 127.0).abs() < 1e-9);
    }

    #[test]
    fn f32_decode_error_names_the_sizes() {
        let err = decode_f32_le(&[0; 10], 384).unwrap_err().to_string();
        assert!(err.contains("1536") && err.contains("10"), "{err}");
    }
}
