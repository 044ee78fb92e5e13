//! Quantized matrix products on the CPU for the two formats of the embedded
//! model (Q4_1 and Q8_0), computed the way llama.cpp computes them: the
//! activations are quantized to 8 bits per row (Q8_1 / Q8_0, rounding to
//! nearest even), each 32-value block is an integer dot product, and blocks
//! are accumulated in eight float lanes with fused multiply-adds, reduced in
//! llama.cpp's order. Same numbers as the reference runtime, and the speed of
//! its AVX2 kernels. Weight rows are split across threads; every weight row
//! is read once per step for all the step's tokens, which is what makes
//! batching pay.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Result, Tensor};
use half::f16;
use crate::engine::spin_pool::SpinPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const BLOCK: usize = 32;
/// Tokens computed together against one weight row.
const TOKENS_PER_PASS: usize = 4;

/// A Q4_1 weight block as GGUF stores it (20 bytes): scale and minimum in half
/// precision, 32 four-bit quants.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BlockQ4_1 {
    d: f16,
    m: f16,
    /// Low nibbles hold values 0..16, high nibbles values 16..32.
    qs: [u8; 16],
}

/// A Q8_0 weight block as GGUF stores it (34 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BlockQ8_0 {
    d: f16,
    qs: [i8; 32],
}

/// A block of quantized activations (Q8_1, or Q8_0 with the sum unused), scales widened once.
#[derive(Clone, Copy)]
pub struct BlockQ8 {
    d: f32,
    /// Q8_1 only: d × the sum of the quants, rounded to half precision.
    s: f32,
    qs: [i8; 32],
}

enum Rows {
    Q4_1(Vec<BlockQ4_1>),
    Q8_0(Vec<BlockQ8_0>),
}

/// A weight matrix of `rows` outputs × `cols` inputs, kept quantized.
pub struct QuantLinear {
    rows: usize,
    cols: usize,
    weights: Rows,
}

fn half(bytes: &[u8]) -> f16 {
    f16::from_le_bytes([bytes[0], bytes[1]])
}

impl QuantLinear {
    /// Takes over a Q4_1 or Q8_0 matrix; `None` for other formats.
    pub fn from_qtensor(tensor: &QTensor) -> Result<Option<Self>> {
        let (rows, cols) = tensor.shape().dims2()?;
        if cols % BLOCK != 0 {
            return Ok(None);
        }
        let data = tensor.data()?;
        let weights = match tensor.dtype() {
            GgmlDType::Q4_1 => Rows::Q4_1(
                data.chunks_exact(20)
                    .map(|b| BlockQ4_1 { d: half(&b[0..2]), m: half(&b[2..4]), qs: b[4..20].try_into().expect("16 bytes") })
                    .collect(),
            ),
            GgmlDType::Q8_0 => Rows::Q8_0(
                data.chunks_exact(34)
                    .map(|b| BlockQ8_0 { d: half(&b[0..2]), qs: std::array::from_fn(|i| b[2 + i] as i8) })
                    .collect(),
            ),
            _ => return Ok(None),
        };
        Ok(Some(Self { rows, cols, weights }))
    }

    /// The matrices stacked row-wise into one (q, k and v; gate and up), when
    /// they share their input size and format.
    pub fn concat(parts: Vec<QuantLinear>) -> std::result::Result<QuantLinear, Vec<QuantLinear>> {
        let same = parts.windows(2).all(|w| {
            w[0].cols == w[1].cols && matches!((&w[0].weights, &w[1].weights), (Rows::Q4_1(_), Rows::Q4_1(_)) | (Rows::Q8_0(_), Rows::Q8_0(_)))
        });
        if !same || parts.is_empty() {
            return Err(parts);
        }
        let mut parts = parts.into_iter();
        let mut fused = parts.next().expect("at least one part");
        for part in parts {
            fused.rows += part.rows;
            match (&mut fused.weights, part.weights) {
                (Rows::Q4_1(all), Rows::Q4_1(more)) => all.extend(more),
                (Rows::Q8_0(all), Rows::Q8_0(more)) => all.extend(more),
                _ => unreachable!("formats checked above"),
            }
        }
        Ok(fused)
    }

    /// `x` of shape (..., cols) in F32 on the CPU to (..., rows).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let tokens = x.elem_count() / self.cols;
        let input: Vec<f32> = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let output = Self::forward_group_host(&[self], &input, tokens, None)?.remove(0);
        let mut dims = x.dims().to_vec();
        *dims.last_mut().expect("at least one dim") = self.rows;
        Tensor::from_vec(output, dims, &Device::Cpu)
    }

    /// Several matrices over the same `tokens` input rows (q, k and v; gate and
    /// up) in one parallel pass: the input is quantized once and the threads
    /// meet once. Outputs are token-major.
    pub fn forward_group_host(
        parts: &[&QuantLinear],
        input: &[f32],
        tokens: usize,
        pool: Option<&SpinPool>,
    ) -> Result<Vec<Vec<f32>>> {
        let cols = parts[0].cols;
        if parts.iter().any(|p| p.cols != cols) || input.len() != tokens * cols {
            candle_core::bail!("grouped matrices must share their input size");
        }
        let blocks = cols / BLOCK;
        // Q8_1 blocks serve Q8_0 weights too: same scale and quants, the sum unused.
        let activations: Vec<BlockQ8> =
            input.chunks_exact(BLOCK).map(|values| quantize_q8(values.try_into().expect("32 values"), true)).collect();
        // Global row r belongs to the part whose row range holds it.
        let starts: Vec<usize> = parts.iter().scan(0, |start, p| { let s = *start; *start += p.rows; Some(s) }).collect();
        let total_rows: usize = parts.iter().map(|p| p.rows).sum();

        let compute = |first_row: usize, out: &mut [f32]| {
            for (i, row_out) in out.chunks_exact_mut(tokens).enumerate() {
                let global = first_row + i;
                let part = starts.partition_point(|&s| s <= global) - 1;
                let (weights, row) = (&parts[part].weights, global - starts[part]);
                for (group, slots) in row_out.chunks_mut(TOKENS_PER_PASS).enumerate() {
                    dot_row(weights, row, blocks, &activations, group * TOKENS_PER_PASS, slots);
                }
            }
        };
        // out_t[row][token]; small products run on this thread, where waking others costs more than it saves.
        let transposed = match pool {
            Some(pool) if total_rows * blocks * tokens >= SERIAL_BELOW => {
                // Threads take runs of rows as they finish, so a slower one takes fewer.
                let run = total_rows.div_ceil(pool.parallelism() * 8).max(16);
                let next = AtomicUsize::new(0);
                let runs: Mutex<Vec<(usize, Vec<f32>)>> = Mutex::new(Vec::new());
                pool.run(&|_| loop {
                    let start = next.fetch_add(run, Ordering::Relaxed);
                    if start >= total_rows {
                        break;
                    }
                    let end = (start + run).min(total_rows);
                    let mut out = vec![0f32; (end - start) * tokens];
                    compute(start, &mut out);
                    runs.lock().expect("runs").push((start, out));
                });
                let mut runs = runs.into_inner().expect("runs");
                runs.sort_unstable_by_key(|(start, _)| *start);
                runs.into_iter().flat_map(|(_, out)| out).collect()
            }
            _ => {
                let mut out = vec![0f32; total_rows * tokens];
                compute(0, &mut out);
                out
            }
        };

        Ok(parts
            .iter()
            .zip(&starts)
            .map(|(part, &start)| {
                let mut output = vec![0f32; part.rows * tokens];
                for row in 0..part.rows {
                    for token in 0..tokens {
                        output[token * part.rows + row] = transposed[(start + row) * tokens + token];
                    }
                }
                output
            })
            .collect())
    }
}

/// Block products below which a matrix product stays on one thread.
const SERIAL_BELOW: usize = 2_048;

/// One weight row against `out.len()` (at most `TOKENS_PER_PASS`) consecutive tokens from `first`.
fn dot_row(weights: &Rows, row: usize, blocks: usize, activations: &[BlockQ8], first: usize, out: &mut [f32]) {
    fn inputs<const N: usize>(activations: &[BlockQ8], blocks: usize, first: usize) -> [&[BlockQ8]; N] {
        std::array::from_fn(|t| &activations[(first + t) * blocks..(first + t + 1) * blocks])
    }
    fn run<const N: usize>(weights: &Rows, row: usize, blocks: usize, activations: &[BlockQ8], first: usize, out: &mut [f32]) {
        let inputs = inputs::<N>(activations, blocks, first);
        let values = match weights {
            Rows::Q4_1(w) => dot_q4_1_q8_1(&w[row * blocks..(row + 1) * blocks], inputs),
            Rows::Q8_0(w) => dot_q8_0_q8_0(&w[row * blocks..(row + 1) * blocks], inputs),
        };
        out.copy_from_slice(&values);
    }
    match out.len() {
        1 => run::<1>(weights, row, blocks, activations, first, out),
        2 => run::<2>(weights, row, blocks, activations, first, out),
        3 => run::<3>(weights, row, blocks, activations, first, out),
        _ => run::<4>(weights, row, blocks, activations, first, out),
    }
}

/// One block of activations to 8 bits: scale by 127 / max |x|, round to nearest even.
fn quantize_q8(values: &[f32; BLOCK], with_sum: bool) -> BlockQ8 {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = max / 127.0;
    let scale = if max != 0.0 { 127.0 / max } else { 0.0 };
    let qs: [i8; BLOCK] = std::array::from_fn(|i| (values[i] * scale).round_ties_even() as i8);
    let sum: i32 = qs.iter().map(|&q| i32::from(q)).sum();
    BlockQ8 {
        d: f16::from_f32(d).to_f32(),
        s: if with_sum { f16::from_f32(d * sum as f32).to_f32() } else { 0.0 },
        qs,
    }
}

/// Eight lanes reduced as llama.cpp's `hsum_float_8` reduces them.
fn hsum(acc: [f32; 8]) -> f32 {
    let r: [f32; 4] = std::array::from_fn(|i| acc[i + 4] + acc[i]);
    (r[0] + r[2]) + (r[1] + r[3])
}

/// Whether the AVX2 + FMA + F16C kernels can run here.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("f16c")
}

/// One weight row against N activation rows.
fn dot_q4_1_q8_1<const N: usize>(w: &[BlockQ4_1], inputs: [&[BlockQ8]; N]) -> [f32; N] {
    assert!(inputs.iter().all(|a| a.len() == w.len()));
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports the instructions (checked just above) and the lengths match.
        return unsafe { avx2::dot_q4_1_q8_1(w, inputs) };
    }
    inputs.map(|a| portable::dot_q4_1_q8_1(w, a))
}

fn dot_q8_0_q8_0<const N: usize>(w: &[BlockQ8_0], inputs: [&[BlockQ8]; N]) -> [f32; N] {
    assert!(inputs.iter().all(|a| a.len() == w.len()));
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports the instructions (checked just above) and the lengths match.
        return unsafe { avx2::dot_q8_0_q8_0(w, inputs) };
    }
    inputs.map(|a| portable::dot_q8_0_q8_0(w, a))
}

/// The same arithmetic without SIMD: lane by lane, with fused multiply-adds, so the bits agree.
mod portable {
    use super::{hsum, BlockQ4_1, BlockQ8, BlockQ8_0, BLOCK};

    /// Lane j of a block's integer dot product sums the products of values 4j..4j+4.
    fn lanes(x: impl Fn(usize) -> i32, y: &[i8; BLOCK]) -> [i32; 8] {
        std::array::from_fn(|j| (4 * j..4 * j + 4).map(|k| x(k) * i32::from(y[k])).sum())
    }

    fn accumulate(acc: &mut [f32; 8], scale: f32, sums: [i32; 8]) {
        for (lane, sum) in acc.iter_mut().zip(sums) {
            *lane = scale.mul_add(sum as f32, *lane);
        }
    }

    pub fn dot_q4_1_q8_1(w: &[BlockQ4_1], a: &[BlockQ8]) -> f32 {
        let mut acc = [0f32; 8];
        let mut mins = 0f32;
        for (w, a) in w.iter().zip(a) {
            mins += w.m.to_f32() * a.s;
            let nibble = |k: usize| i32::from(if k < 16 { w.qs[k] & 0x0f } else { w.qs[k - 16] >> 4 });
            accumulate(&mut acc, w.d.to_f32() * a.d, lanes(nibble, &a.qs));
        }
        hsum(acc) + mins
    }

    pub fn dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8]) -> f32 {
        let mut acc = [0f32; 8];
        for (w, a) in w.iter().zip(a) {
            accumulate(&mut acc, w.d.to_f32() * a.d, lanes(|k| i32::from(w.qs[k]), &a.qs));
        }
        hsum(acc)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{BlockQ4_1, BlockQ8, BlockQ8_0};
    use std::arch::x86_64::*;

    /// The block's scale and minimum, widened together.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scale_and_min(w: &BlockQ4_1) -> (f32, f32) {
        let both = _mm_cvtph_ps(_mm_cvtsi32_si128((w as *const BlockQ4_1).cast::<i32>().read_unaligned()));
        (_mm_cvtss_f32(both), _mm_cvtss_f32(_mm_movehdup_ps(both)))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn scale(w: &BlockQ8_0) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(w.d.to_bits()))))
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(acc: __m256) -> f32 {
        let r = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
        let r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        _mm_cvtss_f32(_mm_add_ss(r, _mm_movehdup_ps(r)))
    }

    /// Unsigned × signed bytes, summed in fours into eight float lanes.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn lanes(unsigned: __m256i, signed: __m256i) -> __m256 {
        let pairs = _mm256_maddubs_epi16(unsigned, signed);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), pairs))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q4_1_q8_1<const N: usize>(w: &[BlockQ4_1], inputs: [&[BlockQ8]; N]) -> [f32; N] {
        let mut acc = [_mm256_setzero_ps(); N];
        let mut mins = [0f32; N];
        let low = _mm256_set1_epi8(0x0f);
        for (b, w) in w.iter().enumerate() {
            let (d, m) = scale_and_min(w);
            let packed = _mm_loadu_si128(w.qs.as_ptr().cast());
            let nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
            for t in 0..N {
                let a = inputs[t].get_unchecked(b);
                mins[t] += m * a.s;
                let y = _mm256_loadu_si256(a.qs.as_ptr().cast());
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a.d), lanes(nibbles, y), acc[t]);
            }
        }
        std::array::from_fn(|t| hsum(acc[t]) + mins[t])
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_q8_0_q8_0<const N: usize>(w: &[BlockQ8_0], inputs: [&[BlockQ8]; N]) -> [f32; N] {
        let mut acc = [_mm256_setzero_ps(); N];
        for (b, w) in w.iter().enumerate() {
            let d = scale(w);
            let x = _mm256_loadu_si256(w.qs.as_ptr().cast());
            let magnitude = _mm256_sign_epi8(x, x);
            for t in 0..N {
                let a = inputs[t].get_unchecked(b);
                let y = _mm256_loadu_si256(a.qs.as_ptr().cast());
                // |x| × (y with x's sign): the same products, in the unsigned × signed form the instruction takes.
                let products = lanes(magnitude, _mm256_sign_epi8(y, x));
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a.d), products, acc[t]);
            }
        }
        std::array::from_fn(|t| hsum(acc[t]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(seed: u32) -> [f32; BLOCK] {
        std::array::from_fn(|i| ((seed as usize * 31 + i * 17) % 23) as f32 / 7.0 - 1.5)
    }

    #[test]
    fn quantizing_rounds_ties_to_even_and_keeps_the_sum() {
        let mut values = [0f32; BLOCK];
        values[0] = 127.0;
        values[1] = 2.5;
        values[2] = -3.5;
        let q = quantize_q8(&values, true);
        assert_eq!(&q.qs[..3], &[127, 2, -4]);
        assert_eq!(q.s, f16::from_f32(1.0 * 125.0).to_f32());
    }

    #[test]
    fn the_simd_and_portable_kernels_agree_bit_for_bit() {
        let weights: Vec<BlockQ4_1> = (0..4u8)
            .map(|i| BlockQ4_1 { d: f16::from_f32(0.01 * f32::from(i + 1)), m: f16::from_f32(-0.05), qs: std::array::from_fn(|k| (k as u8).wrapping_mul(37).wrapping_add(i)) })
            .collect();
        let q8_1: Vec<BlockQ8> = (0..4).map(|i| quantize_q8(&block(i), true)).collect();
        let q8_0: Vec<BlockQ8_0> = (4..8)
            .map(|i| quantize_q8(&block(i), false))
            .map(|a| BlockQ8_0 { d: f16::from_f32(a.d), qs: a.qs })
            .collect();
        let second: Vec<BlockQ8> = (4..8).map(|i| quantize_q8(&block(i), true)).collect();
        let inputs = [&q8_1[..], &second[..], &q8_1[..]];
        for (value, input) in dot_q4_1_q8_1(&weights, inputs).iter().zip(inputs) {
            assert_eq!(value.to_bits(), portable::dot_q4_1_q8_1(&weights, input).to_bits());
        }
        for (value, input) in dot_q8_0_q8_0(&q8_0, inputs).iter().zip(inputs) {
            assert_eq!(value.to_bits(), portable::dot_q8_0_q8_0(&q8_0, input).to_bits());
        }
    }
}
