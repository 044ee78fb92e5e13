//! A Llama-family decoder as plain structs. Weights may be quantized (GGUF) or
//! dense (safetensors); both go through `QMatMul`. The forward pass takes many
//! sequences at once, packed token after token: the matrix products run once
//! over every token of the step, attention runs per sequence against its own cache.

use candle_core::quantized::QMatMul;
use crate::engine::attention::{self, HostKv};
use crate::engine::quantized::QuantLinear;
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::kv_cache::KvCache;

/// The shape of a Llama model, whatever file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub vocab_size: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f32,
    /// Llama 3.1's long-context frequency scaling, when the model uses it.
    pub rope_scaling: Option<Llama3RopeScaling>,
    /// GGUF files store q/k rows permuted for interleaved rotary embeddings.
    pub rope_interleaved: bool,
    /// Per-pair frequency divisors stored in GGUF files of Llama 3.1 (`rope_freqs.weight`).
    pub rope_freq_factors: Option<Vec<f32>>,
    pub max_positions: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Llama3RopeScaling {
    pub factor: f32,
    pub low_freq_factor: f32,
    pub high_freq_factor: f32,
    pub original_max_positions: usize,
}

/// The rotary frequencies, with Llama 3.1's scaling applied when configured.
fn inverse_frequencies(config: &ModelConfig) -> Vec<f32> {
    let dim = config.head_dim;
    (0..dim)
        .step_by(2)
        .map(|i| 1.0 / config.rope_theta.powf(i as f32 / dim as f32))
        .map(|freq| match &config.rope_scaling {
            None => freq,
            Some(s) => {
                let low_freq_wavelen = s.original_max_positions as f32 / s.low_freq_factor;
                let high_freq_wavelen = s.original_max_positions as f32 / s.high_freq_factor;
                let wavelen = 2.0 * std::f32::consts::PI / freq;
                if wavelen < high_freq_wavelen {
                    freq
                } else if wavelen > low_freq_wavelen {
                    freq / s.factor
                } else {
                    let smooth = (s.original_max_positions as f32 / wavelen - s.low_freq_factor)
                        / (s.high_freq_factor - s.low_freq_factor);
                    (1.0 - smooth) * freq / s.factor + smooth * freq
                }
            }
        })
        .collect()
}

/// Precomputed rotary tables, one row per position.
struct Rotary {
    cos: Tensor,
    sin: Tensor,
    interleaved: bool,
}

impl Rotary {
    fn new(config: &ModelConfig, dtype: DType, device: &Device) -> Result<Self> {
        let half = config.head_dim / 2;
        let (cos, sin): (Vec<f32>, Vec<f32>) = if config.rope_interleaved {
            // llama.cpp's table: each pair's angle is the previous one times a constant, in f32.
            let theta_scale = config.rope_theta.powf(-2.0 / config.head_dim as f32);
            let factors = config.rope_freq_factors.clone().unwrap_or_else(|| vec![1.0; half]);
            (0..config.max_positions)
                .flat_map(|position| {
                    let mut theta = position as f32;
                    let factors = factors.clone();
                    (0..half).map(move |i| {
                        let angle = theta / factors[i];
                        theta *= theta_scale;
                        (angle.cos(), angle.sin())
                    })
                })
                .unzip()
        } else {
            let inv_freq = inverse_frequencies(config);
            (0..config.max_positions)
                .flat_map(|position| inv_freq.iter().map(move |f| position as f32 * f))
                .map(|angle| (angle.cos(), angle.sin()))
                .unzip()
        };
        let table = |values: Vec<f32>| Tensor::from_vec(values, (config.max_positions, half), device)?.to_dtype(dtype);
        Ok(Self { cos: table(cos)?, sin: table(sin)?, interleaved: config.rope_interleaved })
    }

    /// Rotates `x` of shape (1, heads, tokens, head_dim) by each token's own position.
    fn apply(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        if self.interleaved {
            candle_nn::rotary_emb::rope_i(x, cos, sin)
        } else {
            candle_nn::rotary_emb::rope(x, cos, sin)
        }
    }
}

pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(weight: Tensor, eps: f64) -> Self {
        Self { weight, eps }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !x.device().is_cpu() {
            return candle_nn::ops::rms_norm(x, &self.weight, self.eps as f32);
        }
        // llama.cpp's arithmetic: squares summed in double, one f32 scale per row, then the weight.
        let weight: Vec<f32> = self.weight.to_dtype(DType::F32)?.to_vec1()?;
        let values: Vec<f32> = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let mut out = Vec::with_capacity(values.len());
        for row in values.chunks_exact(weight.len()) {
            let sum: f64 = row.iter().map(|v| f64::from(v * v)).sum();
            let mean = (sum / row.len() as f64) as f32;
            let scale = 1.0 / (mean + self.eps as f32).sqrt();
            out.extend(row.iter().zip(&weight).map(|(v, w)| (v * scale) * w));
        }
        Tensor::from_vec(out, x.shape(), x.device())?.to_dtype(x.dtype())
    }
}

/// A weight matrix: our llama.cpp-exact CPU kernels where they apply, candle's everywhere else.
pub enum Linear {
    Quantized(QuantLinear),
    Candle(QMatMul),
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Quantized(weights) => weights.forward(x),
            Self::Candle(weights) => weights.forward(x),
        }
    }

    /// Several matrices over one input, in a single pass where the kernels allow it.
    fn forward_group<const N: usize>(linears: [&Linear; N], x: &Tensor) -> Result<[Tensor; N]> {
        let quantized: Vec<&QuantLinear> = linears
            .iter()
            .filter_map(|l| match l {
                Self::Quantized(weights) => Some(weights),
                Self::Candle(_) => None,
            })
            .collect();
        let outputs = if quantized.len() == N {
            QuantLinear::forward_group(&quantized, x)?
        } else {
            linears.iter().map(|l| l.forward(x)).collect::<Result<Vec<_>>>()?
        };
        Ok(outputs.try_into().unwrap_or_else(|_| unreachable!("one output per matrix")))
    }
}

pub struct Layer {
    pub attention_norm: RmsNorm,
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub o: Linear,
    pub ffn_norm: RmsNorm,
    pub gate: Linear,
    pub up: Linear,
    pub down: Linear,
}

pub struct Llama {
    pub config: ModelConfig,
    /// Embedding rows in the compute dtype, looked up by token id.
    embeddings: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: Linear,
    rotary: Rotary,
    /// CPU threads for the matrix products; the calling thread works as one of them.
    threads: Option<rayon::ThreadPool>,
    dtype: DType,
    device: Device,
}

/// One sequence's keys and values, layer by layer: one per conversation, never shared.
pub struct SequenceCache {
    layers: Vec<LayerCache>,
    len: usize,
}

/// Device tensors on accelerators; half-precision host buffers for the CPU attention.
enum LayerCache {
    Device(KvCache),
    Host(HostKv),
}

impl SequenceCache {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The tokens one sequence adds in a step: its whole prompt, or its last sampled token.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut SequenceCache,
}

/// Growth step of the per-sequence caches, in tokens.
const CACHE_CHUNK: usize = 512;

impl Llama {
    pub fn new(
        config: ModelConfig,
        embeddings: Tensor,
        layers: Vec<Layer>,
        norm: RmsNorm,
        lm_head: Linear,
        dtype: DType,
    ) -> Result<Self> {
        let device = embeddings.device().clone();
        let rotary = Rotary::new(&config, dtype, &device)?;
        // Sized by RAYON_NUM_THREADS, else by the machine's cores.
        let threads = device
            .is_cpu()
            .then(|| rayon::ThreadPoolBuilder::new().thread_name(|i| format!("matmul-{i}")).build())
            .transpose()
            .map_err(|e| candle_core::Error::Msg(format!("cannot start the CPU threads: {e}")))?;
        Ok(Self { config, embeddings: embeddings.to_dtype(dtype)?, layers, norm, lm_head, rotary, threads, dtype, device })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn new_cache(&self) -> SequenceCache {
        let layer = || {
            if self.device.is_cpu() {
                LayerCache::Host(HostKv::new(self.config.num_kv_heads, self.config.head_dim))
            } else {
                LayerCache::Device(KvCache::new(2, CACHE_CHUNK))
            }
        };
        SequenceCache { layers: (0..self.config.num_layers).map(|_| layer()).collect(), len: 0 }
    }

    /// Runs one step over every segment and returns each segment's next-token
    /// logits, shape (segments, vocab), in F32. The caches grow by the segments' tokens.
    pub fn forward(&self, segments: &mut [Segment<'_>]) -> Result<Tensor> {
        // Inside the pool, parallel loops run on this thread too and find the
        // other workers still spinning between products, instead of waking them.
        match &self.threads {
            Some(pool) => pool.install(|| self.step(segments)),
            None => self.step(segments),
        }
    }

    fn step(&self, segments: &mut [Segment<'_>]) -> Result<Tensor> {
        let mut ids = Vec::new();
        let mut positions = Vec::new();
        let mut last_rows = Vec::new();
        for segment in segments.iter() {
            let start = segment.cache.len;
            if start + segment.tokens.len() > self.config.max_positions {
                candle_core::bail!(
                    "sequence of {} tokens exceeds the model's {} positions",
                    start + segment.tokens.len(),
                    self.config.max_positions
                );
            }
            ids.extend_from_slice(segment.tokens);
            positions.extend((start..start + segment.tokens.len()).map(|p| p as u32));
            last_rows.push((ids.len() - 1) as u32);
        }
        let total = ids.len();
        let ids = Tensor::from_vec(ids, total, &self.device)?;
        let positions = Tensor::from_vec(positions, total, &self.device)?;
        let cos = self.rotary.cos.index_select(&positions, 0)?;
        let sin = self.rotary.sin.index_select(&positions, 0)?;

        let mut x = self.embeddings.index_select(&ids, 0)?.unsqueeze(0)?;
        for (index, layer) in self.layers.iter().enumerate() {
            let attention = self.attention(layer, index, &layer.attention_norm.forward(&x)?, &cos, &sin, segments)?;
            x = (x + attention)?;
            let h = layer.ffn_norm.forward(&x)?;
            let [gate, up] = Linear::forward_group([&layer.gate, &layer.up], &h)?;
            let mlp = layer.down.forward(&(candle_nn::ops::silu(&gate)? * up)?)?;
            x = (x + mlp)?;
        }
        for segment in segments.iter_mut() {
            segment.cache.len += segment.tokens.len();
        }
        let last_rows = Tensor::from_vec(last_rows, segments.len(), &self.device)?;
        let last = x.squeeze(0)?.index_select(&last_rows, 0)?;
        self.lm_head.forward(&self.norm.forward(&last)?)?.to_dtype(DType::F32)
    }

    fn attention(
        &self,
        layer: &Layer,
        index: usize,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        segments: &mut [Segment<'_>],
    ) -> Result<Tensor> {
        let c = &self.config;
        let total = x.dim(1)?;
        let heads = |t: Tensor, n: usize| -> Result<Tensor> {
            t.reshape((1, total, n, c.head_dim))?.transpose(1, 2)?.contiguous()
        };
        let [q, k, v] = Linear::forward_group([&layer.q, &layer.k, &layer.v], x)?;
        let q = self.rotary.apply(&heads(q, c.num_heads)?, cos, sin)?;
        let k = self.rotary.apply(&heads(k, c.num_kv_heads)?, cos, sin)?;
        let v = heads(v, c.num_kv_heads)?;

        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let mut outputs = Vec::with_capacity(segments.len());
        let mut offset = 0;
        for segment in segments.iter_mut() {
            let len = segment.tokens.len();
            let past = segment.cache.len;
            let out = match &mut segment.cache.layers[index] {
                LayerCache::Host(kv) => {
                    let rows = |t: &Tensor| -> Result<Vec<f32>> { t.narrow(2, offset, len)?.flatten_all()?.to_vec1() };
                    kv.append(&rows(&k)?, &rows(&v)?, len);
                    let out = attention::attend(&rows(&q)?, c.num_heads, kv, len);
                    Tensor::from_vec(out, (1, len, c.num_heads * c.head_dim), &self.device)?
                }
                LayerCache::Device(cache) => {
                    let q = q.narrow(2, offset, len)?;
                    let stored = |t: &Tensor| t.narrow(2, offset, len)?.contiguous();
                    let (k, v) = cache.append(&stored(&k)?, &stored(&v)?)?;
                    let k = candle_transformers::utils::repeat_kv(k, c.num_heads / c.num_kv_heads)?.contiguous()?;
                    let v = candle_transformers::utils::repeat_kv(v, c.num_heads / c.num_kv_heads)?.contiguous()?;
                    let mut scores = (q.matmul(&k.t()?)? * scale)?.to_dtype(DType::F32)?;
                    if len > 1 {
                        scores = scores.broadcast_add(&causal_mask(len, past, &self.device)?)?;
                    }
                    let weights = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(self.dtype)?;
                    weights.matmul(&v)?.transpose(1, 2)?.reshape((1, len, c.num_heads * c.head_dim))?
                }
            };
            outputs.push(out);
            offset += len;
        }
        layer.o.forward(&Tensor::cat(&outputs, 1)?)
    }
}

/// Mask for `len` new tokens after `past` cached ones: token i sees positions up to past + i.
fn causal_mask(len: usize, past: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..len)
        .flat_map(|i| (0..past + len).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (len, past + len), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_mask_lets_each_token_see_the_past_and_itself() {
        let mask = causal_mask(2, 1, &Device::Cpu).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(mask, vec![vec![0.0, 0.0, f32::NEG_INFINITY], vec![0.0, 0.0, 0.0]]);
    }

    #[test]
    fn llama3_scaling_keeps_high_frequencies_and_divides_low_ones() {
        let config = ModelConfig {
            hidden_size: 0,
            intermediate_size: 0,
            num_layers: 0,
            num_heads: 1,
            num_kv_heads: 1,
            head_dim: 128,
            vocab_size: 0,
            rms_norm_eps: 1e-5,
            rope_theta: 500_000.0,
            rope_scaling: Some(Llama3RopeScaling {
                factor: 8.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_positions: 8192,
            }),
            rope_interleaved: false,
            rope_freq_factors: None,
            max_positions: 16,
        };
        let scaled = inverse_frequencies(&config);
        let plain = inverse_frequencies(&ModelConfig { rope_scaling: None, ..config });
        assert_eq!(scaled[0], plain[0]);
        assert!((scaled[63] - plain[63] / 8.0).abs() < 1e-12);
    }
}
