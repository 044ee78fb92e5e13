//! Element-wise math in llama.cpp's arithmetic: its vectorised exp (a
//! polynomial, not libm's expf), and the softmax and SiLU built on it, eight
//! lanes at a time. The portable code computes the same bits without SIMD.

/// `ggml_v_expf` on eight lanes.
pub fn exp8(x: [f32; 8]) -> [f32; 8] {
    #[cfg(target_arch = "x86_64")]
    if crate::engine::quantized::has_avx2() {
        // SAFETY: the CPU supports the instructions, checked just above.
        return unsafe { avx2::exp8(x) };
    }
    x.map(portable::exp)
}

/// SiLU(gate) × up over whole 8-lane chunks, libm for a shorter tail, as `ggml_vec_swiglu_f32`.
pub fn swiglu(gate: &[f32], up: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(gate.len());
    let chunks = gate.len() / 8;
    for (g, u) in gate.chunks_exact(8).zip(up.chunks_exact(8)) {
        let g: [f32; 8] = g.try_into().expect("8 values");
        let e = exp8(g.map(|v| -v));
        out.extend((0..8).map(|i| g[i] / (1.0 + e[i]) * u[i]));
    }
    for i in chunks * 8..gate.len() {
        out.push(gate[i] / (1.0 + (-gate[i]).exp()) * up[i]);
    }
    out
}

/// Turns scores into weights in place, as `ggml_soft_max`: exp of (score − max)
/// in 8-lane chunks, each chunk's sum reduced in float and added in double, then
/// one f32 scale by 1 / sum. Masked scores are −∞ and become 0.
pub fn softmax(scores: &mut [f32]) {
    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
    let mut sum = 0f64;
    let chunks = scores.len() / 8;
    for chunk in scores.chunks_exact_mut(8) {
        let shifted: [f32; 8] = std::array::from_fn(|i| chunk[i] - max);
        let values = exp8(shifted);
        chunk.copy_from_slice(&values);
        let r: [f32; 4] = std::array::from_fn(|i| values[i + 4] + values[i]);
        sum += f64::from((r[0] + r[2]) + (r[1] + r[3]));
    }
    for value in scores[chunks * 8..].iter_mut() {
        *value = (*value - max).exp();
        sum += f64::from(*value);
    }
    let inverse = (1.0 / sum) as f32;
    for value in scores.iter_mut() {
        *value *= inverse;
    }
}

// The constants of `ggml_v_expf`, as bits: 0x1.8p23, log2(e) = 0x1.715476p+0,
// ln(2) split as 0x1.62e4p-1 + 0x1.7f7d1cp-20, and the polynomial
// 0x1.0e4020p-7, 0x1.573e2ep-5, 0x1.555e66p-3, 0x1.fffdb6p-2, 0x1.ffffecp-1.
const ROUNDER: u32 = 0x4b40_0000;
const LOG2_E: u32 = 0x3fb8_aa3b;
const LN2_HI: u32 = 0x3f31_7200;
const LN2_LO: u32 = 0x35bf_be8e;
const POLY: [u32; 5] = [0x3c07_2010, 0x3d2b_9f17, 0x3e2a_af33, 0x3eff_fedb, 0x3f7f_fff6];

mod portable {
    use super::{LN2_HI, LN2_LO, LOG2_E, POLY, ROUNDER};

    /// One lane of `ggml_v_expf`.
    pub fn exp(x: f32) -> f32 {
        let r = f32::from_bits(ROUNDER);
        let z = x.mul_add(f32::from_bits(LOG2_E), r); // log2(e)
        let n = z - r;
        let b = (-n).mul_add(f32::from_bits(LN2_LO), (-n).mul_add(f32::from_bits(LN2_HI), x));
        let e = z.to_bits().wrapping_shl(23);
        let k = f32::from_bits(e.wrapping_add(1f32.to_bits()));
        let c = n.abs() > 126.0;
        let u = b * b;
        let p = POLY.map(f32::from_bits);
        let j = p[0].mul_add(b, p[1]).mul_add(u, p[2].mul_add(b, p[3])).mul_add(u, p[4] * b);
        if !c {
            return j.mul_add(k, k);
        }
        let g: u32 = if n <= 0.0 { 0x8200_0000 } else { 0 };
        let s1 = f32::from_bits(g.wrapping_add(0x7f00_0000));
        let s2 = f32::from_bits(e.wrapping_sub(g));
        if n.abs() > 192.0 {
            s1 * s1
        } else {
            s2.mul_add(j, s2) * s1
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LN2_HI, LN2_LO, LOG2_E, POLY, ROUNDER};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp8(x: [f32; 8]) -> [f32; 8] {
        let x = _mm256_loadu_ps(x.as_ptr());
        let r = _mm256_castsi256_ps(_mm256_set1_epi32(ROUNDER as i32));
        let z = _mm256_fmadd_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(LOG2_E as i32)), r);
        let n = _mm256_sub_ps(z, r);
        let b = _mm256_fnmadd_ps(
            n,
            _mm256_castsi256_ps(_mm256_set1_epi32(LN2_LO as i32)),
            _mm256_fnmadd_ps(n, _mm256_castsi256_ps(_mm256_set1_epi32(LN2_HI as i32)), x),
        );
        let e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
        let k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0))));
        let magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0), n);
        let c = _mm256_castps_si256(_mm256_cmp_ps(magnitude, _mm256_set1_ps(126.0), _CMP_GT_OQ));
        let u = _mm256_mul_ps(b, b);
        let p = POLY.map(|bits| _mm256_castsi256_ps(_mm256_set1_epi32(bits as i32)));
        let j = _mm256_fmadd_ps(
            _mm256_fmadd_ps(_mm256_fmadd_ps(p[0], b, p[1]), u, _mm256_fmadd_ps(p[2], b, p[3])),
            u,
            _mm256_mul_ps(p[4], b),
        );
        let result = if _mm256_movemask_ps(_mm256_castsi256_ps(c)) == 0 {
            _mm256_fmadd_ps(j, k, k)
        } else {
            let g = _mm256_and_si256(
                _mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                _mm256_set1_epi32(0x8200_0000u32 as i32),
            );
            let s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f00_0000)));
            let s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
            let d = _mm256_castps_si256(_mm256_cmp_ps(magnitude, _mm256_set1_ps(192.0), _CMP_GT_OQ));
            _mm256_or_ps(
                _mm256_and_ps(_mm256_castsi256_ps(d), _mm256_mul_ps(s1, s1)),
                _mm256_andnot_ps(
                    _mm256_castsi256_ps(d),
                    _mm256_or_ps(
                        _mm256_and_ps(_mm256_castsi256_ps(c), _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)),
                        _mm256_andnot_ps(_mm256_castsi256_ps(c), _mm256_fmadd_ps(k, j, k)),
                    ),
                ),
            )
        };
        let mut out = [0f32; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), result);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_libm_and_the_lanes_agree_bit_for_bit() {
        let x = [-100.0, -10.5, -1.0, -0.001, 0.0, 0.5, 3.25, 80.0];
        let fast = exp8(x);
        for (value, input) in fast.iter().zip(x) {
            let exact = input.exp();
            assert!(((value - exact) / exact).abs() < 1e-6, "{input}: {value} vs {exact}");
            assert_eq!(value.to_bits(), portable::exp(input).to_bits(), "{input}");
        }
        assert_eq!(exp8([f32::NEG_INFINITY; 8]), [0.0; 8]);
    }

    #[test]
    fn softmax_weights_sum_to_one_and_masked_ones_vanish() {
        let mut scores = vec![1.0, 2.0, 3.0, f32::NEG_INFINITY, 0.5, 0.25, -1.0, 4.0, 2.0, f32::NEG_INFINITY];
        softmax(&mut scores);
        assert!((scores.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!((scores[3], scores[9]), (0.0, 0.0));
        assert!(scores[7] > scores[2]);
    }

    #[test]
    fn swiglu_matches_its_definition() {
        let gate: Vec<f32> = (0..11).map(|i| i as f32 - 5.0).collect();
        let up = vec![2.0; 11];
        for (out, g) in swiglu(&gate, &up).iter().zip(&gate) {
            let expected = g / (1.0 + (-g).exp()) * 2.0;
            assert!((out - expected).abs() < 1e-5, "{g}: {out} vs {expected}");
        }
    }
}
