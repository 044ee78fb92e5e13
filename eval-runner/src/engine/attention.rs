//! Attention on the CPU with llama.cpp's arithmetic: keys, values, queries
//! and softmax weights rounded to half precision, dot products summed in the
//! lane order of its matrix-product kernels, the softmax in its vectorised exp.
//! Half-precision values are kept as the f32 numbers they stand for (exactly),
//! so the products need no conversion.

use crate::engine::vecmath::softmax;
use half::f16;
use crate::engine::spin_pool::SpinPool;
use std::sync::Mutex;

/// Dot products run over whole 32-value steps; shorter tails are zero-padded, as llama.cpp pads its cache.
const STEP: usize = 32;

fn round_to_half(value: f32) -> f32 {
    f16::from_f32(value).to_f32()
}

/// One layer's keys and values for one sequence.
pub struct HostKv {
    kv_heads: usize,
    head_dim: usize,
    len: usize,
    /// [position][kv head][dim]
    keys: Vec<f32>,
    /// Transposed, as llama.cpp keeps V without flash attention: [kv head][dim][position < capacity].
    values: Vec<f32>,
    capacity: usize,
}

impl HostKv {
    pub fn new(kv_heads: usize, head_dim: usize) -> Self {
        Self { kv_heads, head_dim, len: 0, keys: Vec::new(), values: Vec::new(), capacity: 0 }
    }

    /// Keeps the first `len` positions, as a cache reused for a prompt that shares them.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            // Values past `len` are overwritten by the next append, and never read before.
            self.keys.truncate(len * self.kv_heads * self.head_dim);
            self.len = len;
        }
    }

    /// Appends tokens given token-major, [token][kv head][dim], as the projections produce them.
    pub fn append(&mut self, keys: &[f32], values: &[f32]) {
        let (heads, dim) = (self.kv_heads, self.head_dim);
        let tokens = keys.len() / (heads * dim);
        let needed = self.len + tokens;
        if needed > self.capacity {
            let capacity = needed.next_multiple_of(STEP).max(2 * self.capacity);
            let mut grown = vec![0f32; heads * dim * capacity];
            for row in 0..heads * dim {
                grown[row * capacity..row * capacity + self.len]
                    .copy_from_slice(&self.values[row * self.capacity..row * self.capacity + self.len]);
            }
            self.values = grown;
            self.capacity = capacity;
        }
        for token in 0..tokens {
            for head in 0..heads {
                let source = (token * heads + head) * dim;
                self.keys.extend(keys[source..source + dim].iter().map(|&k| round_to_half(k)));
                for d in 0..dim {
                    self.values[(head * dim + d) * self.capacity + self.len + token] = round_to_half(values[source + d]);
                }
            }
        }
        self.len = needed;
    }

    fn key(&self, position: usize, head: usize) -> &[f32] {
        let start = (position * self.kv_heads + head) * self.head_dim;
        &self.keys[start..start + self.head_dim]
    }

    fn value_row(&self, head: usize, d: usize, len: usize) -> &[f32] {
        let start = (head * self.head_dim + d) * self.capacity;
        &self.values[start..start + len]
    }
}

/// Attention of the queries of the last cached positions (given token-major,
/// [token][head][dim]) against every earlier position, causally masked.
/// Returns [token][head × dim].
pub fn attend(queries: &[f32], heads: usize, kv: &HostKv, pool: &SpinPool) -> Vec<f32> {
    let dim = kv.head_dim;
    let len = queries.len() / (heads * dim);
    // Heads are independent: a prompt's many queries spread over the threads.
    let per_head: Vec<Vec<f32>> = if len > 1 {
        let results: Vec<Mutex<Vec<f32>>> = (0..heads).map(|_| Mutex::new(Vec::new())).collect();
        let shares = pool.parallelism();
        pool.run(&|share| {
            for head in (share..heads).step_by(shares) {
                *results[head].lock().expect("head result") = attend_head(queries, head, heads, kv, len);
            }
        });
        results.into_iter().map(|r| r.into_inner().expect("head result")).collect()
    } else {
        (0..heads).map(|head| attend_head(queries, head, heads, kv, len)).collect()
    };
    let mut out = vec![0f32; len * heads * dim];
    for (head, values) in per_head.iter().enumerate() {
        for token in 0..len {
            out[(token * heads + head) * dim..(token * heads + head + 1) * dim]
                .copy_from_slice(&values[token * dim..(token + 1) * dim]);
        }
    }
    out
}

/// One head's outputs, [token][dim].
fn attend_head(queries: &[f32], head: usize, heads: usize, kv: &HostKv, len: usize) -> Vec<f32> {
    let dim = kv.head_dim;
    let past = kv.len - len;
    let scale = 1.0 / (dim as f32).sqrt();
    let kv_head = head / (heads / kv.kv_heads);
    let mut out = vec![0f32; len * dim];
    let mut weights = vec![0f32; kv.capacity];
    for token in 0..len {
        let start = (token * heads + head) * dim;
        let query: Vec<f32> = queries[start..start + dim].iter().map(|&q| round_to_half(q)).collect();
        let visible = past + token + 1;
        let padded = visible.next_multiple_of(STEP).min(kv.capacity);
        let scores = &mut weights[..padded];
        for (position, score) in scores.iter_mut().enumerate() {
            *score = if position < visible { dot(kv.key(position, kv_head), &query) * scale } else { f32::NEG_INFINITY };
        }
        softmax(scores);
        for score in scores.iter_mut() {
            *score = round_to_half(*score);
        }
        for (d, slot) in out[token * dim..(token + 1) * dim].iter_mut().enumerate() {
            *slot = dot(kv.value_row(kv_head, d, padded), scores);
        }
    }
    out
}

/// The dot product as llama.cpp's CPU matrix products (tinyBLAS) sum it:
/// one accumulator of eight lanes, a fused multiply-add per 8 values, the lanes
/// reduced in a fixed order. Lengths here are multiples of 8; a tail would be
/// folded in one value at a time.
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if crate::engine::quantized::has_avx2() {
        // SAFETY: the CPU supports the instructions, checked just above.
        return unsafe { avx2::dot(x, y) };
    }
    portable::dot(x, y)
}

fn tail(x: &[f32], y: &[f32], from: usize, sum: f32) -> f32 {
    (from..x.len()).fold(sum, |sum, k| x[k].mul_add(y[k], sum))
}

mod portable {
    use super::tail;

    pub fn dot(x: &[f32], y: &[f32]) -> f32 {
        let mut acc = [0f32; 8];
        for (xs, ys) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
            for lane in 0..8 {
                acc[lane] = xs[lane].mul_add(ys[lane], acc[lane]);
            }
        }
        let r: [f32; 4] = std::array::from_fn(|k| acc[k + 4] + acc[k]);
        tail(x, y, x.len() / 8 * 8, (r[0] + r[2]) + (r[1] + r[3]))
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::tail;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(x: &[f32], y: &[f32]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for k in (0..x.len() / 8 * 8).step_by(8) {
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(x.as_ptr().add(k)), _mm256_loadu_ps(y.as_ptr().add(k)), acc);
        }
        let r = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
        let r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        let sum = _mm_cvtss_f32(_mm_add_ss(r, _mm_movehdup_ps(r)));
        tail(x, y, x.len() / 8 * 8, sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_and_portable_dot_products_agree_bit_for_bit() {
        let x: Vec<f32> = (0..77).map(|i| round_to_half((i as f32 * 0.37).sin())).collect();
        let y: Vec<f32> = (0..77).map(|i| round_to_half((i as f32 * 0.11).cos())).collect();
        assert_eq!(dot(&x, &y).to_bits(), portable::dot(&x, &y).to_bits());
    }

    #[test]
    fn one_position_attends_to_itself_only() {
        let mut kv = HostKv::new(1, 32);
        let keys: Vec<f32> = (0..64).map(|i| i as f32 / 64.0).collect();
        let values: Vec<f32> = (0..64).map(|i| (i % 32) as f32 + if i < 32 { 0.0 } else { 100.0 }).collect();
        kv.append(&keys, &values);
        let queries = vec![0.5f32; 64];
        let out = attend(&queries, 1, &kv, &SpinPool::new(2));
        // The first token sees only itself: its own values come back unchanged.
        assert_eq!(&out[..32], &values[..32]);
        // The second mixes both positions: every output lies between them.
        assert!(out[32..].iter().zip(0..32).all(|(o, d)| *o > d as f32 && *o < d as f32 + 100.0));
    }
}
