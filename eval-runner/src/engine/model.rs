//! A Llama-family decoder as plain structs. Weights may be quantized (GGUF) or
//! dense (safetensors); both go through `QMatMul`. The forward pass takes many
//! sequences at once, packed token after token: the matrix products run once
//! over every token of the step, attention runs per sequence against its own cache.

use candle_core::quantized::QMatMul;
use crate::engine::attention::{self, HostKv};
use crate::engine::quantized::QuantLinear;
use crate::engine::spin_pool::SpinPool;
use crate::engine::vecmath;
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

/// Precomputed rotary tables, one row of head_dim / 2 values per position,
/// on the device and on the host.
struct Rotary {
    cos: Tensor,
    sin: Tensor,
    host_cos: Vec<f32>,
    host_sin: Vec<f32>,
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
        let table = |values: &[f32]| Tensor::from_slice(values, (config.max_positions, half), device)?.to_dtype(dtype);
        Ok(Self {
            cos: table(&cos)?,
            sin: table(&sin)?,
            host_cos: cos,
            host_sin: sin,
            interleaved: config.rope_interleaved,
        })
    }

    /// Rotates every head of one token (`values` = heads × head_dim) in place:
    /// pairs side by side (GGUF) or half a head apart (Hugging Face), each output
    /// with one fused multiply-add, as llama.cpp's compiled rope computes it.
    fn apply_host(&self, values: &mut [f32], head_dim: usize, position: usize) {
        let half = head_dim / 2;
        let cos = &self.host_cos[position * half..(position + 1) * half];
        let sin = &self.host_sin[position * half..(position + 1) * half];
        for head in values.chunks_exact_mut(head_dim) {
            for i in 0..half {
                let (a, b) = if self.interleaved { (2 * i, 2 * i + 1) } else { (i, i + half) };
                let (x1, x2) = (head[a], head[b]);
                head[a] = x1.mul_add(cos[i], -(x2 * sin[i]));
                head[b] = x1.mul_add(sin[i], x2 * cos[i]);
            }
        }
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
    host_weight: Vec<f32>,
    eps: f64,
}

impl RmsNorm {
    pub fn new(weight: Tensor, eps: f64) -> Result<Self> {
        let host_weight = weight.to_dtype(DType::F32)?.to_vec1()?;
        Ok(Self { weight, host_weight, eps })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::rms_norm(x, &self.weight, self.eps as f32)
    }

    /// llama.cpp's arithmetic: squares summed in double, one f32 scale per row, then the weight.
    fn forward_host(&self, x: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(self.host_weight.len()) {
            let sum: f64 = row.iter().map(|v| f64::from(v * v)).sum();
            let mean = (sum / row.len() as f64) as f32;
            let scale = 1.0 / (mean + self.eps as f32).sqrt();
            out.extend(row.iter().zip(&self.host_weight).map(|(v, w)| (v * scale) * w));
        }
        out
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

    /// Several matrices over one host input of `tokens` rows, in a single pass
    /// where the kernels allow it; each output is token-major.
    fn forward_group_host(linears: &[&Linear], x: &[f32], tokens: usize, pool: &SpinPool) -> Result<Vec<Vec<f32>>> {
        let quantized: Vec<&QuantLinear> = linears
            .iter()
            .filter_map(|l| match l {
                Self::Quantized(weights) => Some(weights),
                Self::Candle(_) => None,
            })
            .collect();
        if quantized.len() == linears.len() {
            return QuantLinear::forward_group_host(&quantized, x, tokens, Some(pool));
        }
        let input = Tensor::from_slice(x, (tokens, x.len() / tokens), &Device::Cpu)?;
        linears.iter().map(|l| l.forward(&input)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()).collect()
    }

    /// The matrices stacked into one, so that one product computes them all;
    /// left apart when their kinds differ.
    fn fuse(parts: Vec<Linear>) -> Result<Vec<Linear>> {
        if parts.iter().all(|p| matches!(p, Self::Quantized(_))) {
            let quantized = parts.into_iter().filter_map(|p| match p {
                Self::Quantized(q) => Some(q),
                Self::Candle(_) => None,
            });
            return Ok(match QuantLinear::concat(quantized.collect()) {
                Ok(fused) => vec![Self::Quantized(fused)],
                Err(parts) => parts.into_iter().map(Self::Quantized).collect(),
            });
        }
        let dense: Vec<&Tensor> = parts
            .iter()
            .filter_map(|p| match p {
                Self::Candle(QMatMul::Tensor(t)) => Some(t),
                _ => None,
            })
            .collect();
        if dense.len() == parts.len() {
            return Ok(vec![Self::Candle(QMatMul::Tensor(Tensor::cat(&dense, 0)?))]);
        }
        Ok(parts)
    }

    fn forward_host(&self, x: &[f32], tokens: usize, pool: &SpinPool) -> Result<Vec<f32>> {
        Ok(Self::forward_group_host(&[self], x, tokens, pool)?.remove(0))
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

/// A layer as it runs: q/k/v and gate/up each fused into one product where possible.
struct Block {
    attention_norm: RmsNorm,
    qkv: Vec<Linear>,
    o: Linear,
    ffn_norm: RmsNorm,
    gate_up: Vec<Linear>,
    down: Linear,
}

impl Block {
    fn new(layer: Layer) -> Result<Self> {
        Ok(Self {
            attention_norm: layer.attention_norm,
            qkv: Linear::fuse(vec![layer.q, layer.k, layer.v])?,
            o: layer.o,
            ffn_norm: layer.ffn_norm,
            gate_up: Linear::fuse(vec![layer.gate, layer.up])?,
            down: layer.down,
        })
    }
}

/// Splits token-major host outputs into parts of the given widths (one fused output, or one per part).
fn split_host<const N: usize>(outputs: Vec<Vec<f32>>, widths: [usize; N]) -> [Vec<f32>; N] {
    if outputs.len() == N {
        return outputs.try_into().unwrap_or_else(|_| unreachable!("N outputs"));
    }
    let total: usize = widths.iter().sum();
    let mut parts: [Vec<f32>; N] = std::array::from_fn(|_| Vec::new());
    for row in outputs[0].chunks_exact(total) {
        let mut start = 0;
        for (part, width) in parts.iter_mut().zip(widths) {
            part.extend_from_slice(&row[start..start + width]);
            start += width;
        }
    }
    parts
}

/// The same split for device outputs, as views along the last dimension.
fn split_device<const N: usize>(outputs: Vec<Tensor>, widths: [usize; N]) -> Result<[Tensor; N]> {
    if outputs.len() == N {
        return Ok(outputs.try_into().unwrap_or_else(|_| unreachable!("N outputs")));
    }
    let mut start = 0;
    let mut parts = Vec::with_capacity(N);
    for width in widths {
        parts.push(outputs[0].narrow(candle_core::D::Minus1, start, width)?);
        start += width;
    }
    Ok(parts.try_into().unwrap_or_else(|_| unreachable!("N parts")))
}

pub struct Llama {
    pub config: ModelConfig,
    /// Embedding rows in the compute dtype, looked up by token id.
    embeddings: Tensor,
    layers: Vec<Block>,
    norm: RmsNorm,
    lm_head: Linear,
    rotary: Rotary,
    /// CPU workers for the host step; `None` runs candle tensor operations instead.
    pool: Option<SpinPool>,
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

    /// Whether the cache can be cut back to a prefix: host caches can.
    pub fn can_truncate(&self) -> bool {
        self.layers.iter().all(|layer| matches!(layer, LayerCache::Host(_)))
    }

    /// Keeps the first `len` positions (at most its length), for a prompt that
    /// starts with them; only for caches that [`can_truncate`](Self::can_truncate).
    pub fn truncate(&mut self, len: usize) {
        assert!(self.can_truncate(), "only host caches are cut back");
        for layer in &mut self.layers {
            if let LayerCache::Host(kv) = layer {
                kv.truncate(len);
            }
        }
        self.len = self.len.min(len);
    }
}

/// The tokens one sequence adds in a step: its whole prompt, or its last sampled token.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut SequenceCache,
}

/// How a step on the device masks attention.
enum StepMasks {
    /// Every sequence adds one token: one product for all, masking each cache's tail.
    Batched(Tensor),
    /// One causal mask per prompt (none for single tokens).
    PerSequence(Vec<Option<Tensor>>),
}

/// A step's tokens packed one segment after another.
struct Batch {
    ids: Vec<u32>,
    positions: Vec<u32>,
    /// Each segment's rows in the packed batch.
    rows: Vec<std::ops::Range<usize>>,
}

impl Batch {
    fn pack(segments: &[Segment<'_>], max_positions: usize) -> Result<Self> {
        let mut batch = Batch { ids: Vec::new(), positions: Vec::new(), rows: Vec::new() };
        for segment in segments {
            let (start, len) = (segment.cache.len, segment.tokens.len());
            if start + len > max_positions {
                candle_core::bail!("sequence of {} tokens exceeds the model's {max_positions} positions", start + len);
            }
            let first = batch.ids.len();
            batch.ids.extend_from_slice(segment.tokens);
            batch.positions.extend((start..start + len).map(|p| p as u32));
            batch.rows.push(first..first + len);
        }
        Ok(batch)
    }
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
        let layers = layers.into_iter().map(Block::new).collect::<Result<Vec<_>>>()?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pool = device.is_cpu().then(|| SpinPool::new(cores));
        Ok(Self { config, embeddings: embeddings.to_dtype(dtype)?, layers, norm, lm_head, rotary, pool, dtype, device })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Runs every step in candle tensor operations, as on accelerators, even on
    /// the CPU: the accelerator path, checked where no accelerator is.
    pub fn with_tensor_ops(mut self) -> Self {
        self.pool = None;
        self
    }

    /// Uses `threads` CPU threads (the caller included) for the host step.
    pub fn with_threads(mut self, threads: usize) -> Self {
        if self.pool.is_some() {
            self.pool = Some(SpinPool::new(threads));
        }
        self
    }

    pub fn new_cache(&self) -> SequenceCache {
        let layer = || {
            if self.pool.is_some() {
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
        let batch = Batch::pack(segments, self.config.max_positions)?;
        let logits = match &self.pool {
            Some(pool) => self.step_host(&batch, segments, pool),
            None => self.step_device(&batch, segments),
        }?;
        for segment in segments.iter_mut() {
            segment.cache.len += segment.tokens.len();
        }
        Ok(logits)
    }

    /// The CPU step, on plain vectors with the llama.cpp-exact kernels.
    fn step_host(&self, batch: &Batch, segments: &mut [Segment<'_>], pool: &SpinPool) -> Result<Tensor> {
        let c = &self.config;
        let tokens = batch.ids.len();
        let ids = Tensor::from_slice(&batch.ids, tokens, &self.device)?;
        let mut x: Vec<f32> = self.embeddings.index_select(&ids, 0)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let (q_width, kv_width) = (c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim);
        for (index, layer) in self.layers.iter().enumerate() {
            let h = layer.attention_norm.forward_host(&x);
            let qkv: Vec<&Linear> = layer.qkv.iter().collect();
            let [mut q, mut k, v] = split_host(Linear::forward_group_host(&qkv, &h, tokens, pool)?, [q_width, kv_width, kv_width]);
            for (row, &position) in batch.positions.iter().enumerate() {
                self.rotary.apply_host(&mut q[row * q_width..(row + 1) * q_width], c.head_dim, position as usize);
                self.rotary.apply_host(&mut k[row * kv_width..(row + 1) * kv_width], c.head_dim, position as usize);
            }
            let mut attention = Vec::with_capacity(tokens * q_width);
            for (segment, rows) in segments.iter_mut().zip(&batch.rows) {
                let LayerCache::Host(kv) = &mut segment.cache.layers[index] else {
                    candle_core::bail!("a device cache reached the CPU step");
                };
                kv.append(&k[rows.start * kv_width..rows.end * kv_width], &v[rows.start * kv_width..rows.end * kv_width]);
                attention.extend(attention::attend(&q[rows.start * q_width..rows.end * q_width], c.num_heads, kv, pool));
            }
            for (x, o) in x.iter_mut().zip(layer.o.forward_host(&attention, tokens, pool)?) {
                *x += o;
            }
            let h = layer.ffn_norm.forward_host(&x);
            let gate_up: Vec<&Linear> = layer.gate_up.iter().collect();
            let [gate, up] = split_host(Linear::forward_group_host(&gate_up, &h, tokens, pool)?, [c.intermediate_size; 2]);
            let activated = vecmath::swiglu(&gate, &up);
            for (x, d) in x.iter_mut().zip(layer.down.forward_host(&activated, tokens, pool)?) {
                *x += d;
            }
        }
        let hidden = c.hidden_size;
        let last: Vec<f32> = batch.rows.iter().flat_map(|r| x[(r.end - 1) * hidden..r.end * hidden].to_vec()).collect();
        let logits = self.lm_head.forward_host(&self.norm.forward_host(&last), batch.rows.len(), pool)?;
        Tensor::from_vec(logits, (batch.rows.len(), c.vocab_size), &self.device)
    }

    /// The accelerator step, in candle tensor operations.
    fn step_device(&self, batch: &Batch, segments: &mut [Segment<'_>]) -> Result<Tensor> {
        let total = batch.ids.len();
        let last_rows: Vec<u32> = batch.rows.iter().map(|r| r.end as u32 - 1).collect();
        let ids = Tensor::from_slice(&batch.ids, total, &self.device)?;
        let positions = Tensor::from_slice(&batch.positions, total, &self.device)?;
        let cos = self.rotary.cos.index_select(&positions, 0)?;
        let sin = self.rotary.sin.index_select(&positions, 0)?;

        let masks = self.step_masks(segments)?;
        let mut x = self.embeddings.index_select(&ids, 0)?.unsqueeze(0)?;
        for (index, layer) in self.layers.iter().enumerate() {
            let h = layer.attention_norm.forward(&x)?;
            let (q, k, v) = self.qkv_by_head(layer, &h, &cos, &sin)?;
            let attended = match &masks {
                StepMasks::Batched(mask) => self.attend_batched(index, &q, &k, &v, mask, segments)?,
                StepMasks::PerSequence(masks) => self.attend_each(index, &q, &k, &v, masks, segments)?,
            };
            let attention = layer.o.forward(&attended)?;
            x = (x + attention)?;
            let h = layer.ffn_norm.forward(&x)?;
            let outputs = layer.gate_up.iter().map(|l| l.forward(&h)).collect::<Result<Vec<_>>>()?;
            let [gate, up] = split_device(outputs, [self.config.intermediate_size; 2])?;
            let mlp = layer.down.forward(&(candle_nn::ops::silu(&gate)? * up)?)?;
            x = (x + mlp)?;
        }
        let last_rows = Tensor::from_vec(last_rows, segments.len(), &self.device)?;
        let last = x.squeeze(0)?.index_select(&last_rows, 0)?;
        self.lm_head.forward(&self.norm.forward(&last)?)?.to_dtype(DType::F32)
    }

    /// The step's masks, built once and shared by every layer. When every sequence
    /// adds one token and their caches can be read to a common length, the step
    /// attends for all of them at once, with one mask (sequences, 1, 1, longest)
    /// hiding each cache's unused tail; otherwise each prompt gets its causal mask.
    fn step_masks(&self, segments: &[Segment<'_>]) -> Result<StepMasks> {
        let lengths: Vec<usize> = segments.iter().map(|s| s.cache.len + s.tokens.len()).collect();
        let longest = lengths.iter().copied().max().unwrap_or(0);
        // Caches grow in chunks: each must already hold (or be about to hold) `longest` positions.
        let batched = segments.len() > 1
            && segments.iter().all(|s| s.tokens.len() == 1)
            && lengths.iter().all(|l| l.next_multiple_of(CACHE_CHUNK) >= longest);
        if !batched {
            let group = self.config.num_heads / self.config.num_kv_heads;
            let masks = segments
                .iter()
                .map(|s| {
                    let len = s.tokens.len();
                    (len > 1).then(|| causal_mask(len, s.cache.len, group, &self.device)?.to_dtype(self.dtype)).transpose()
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(StepMasks::PerSequence(masks));
        }
        let mask: Vec<f32> = lengths
            .iter()
            .flat_map(|&len| (0..longest).map(move |j| if j < len { 0.0 } else { f32::NEG_INFINITY }))
            .collect();
        let mask = Tensor::from_vec(mask, (lengths.len(), 1, 1, longest), &self.device)?.to_dtype(self.dtype)?;
        Ok(StepMasks::Batched(mask))
    }

    /// q, k and v of every token, rotated, each laid out (1, heads, tokens, dim);
    /// a single token needs no copy.
    fn qkv_by_head(&self, layer: &Block, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let c = &self.config;
        let total = x.dim(1)?;
        let heads = c.num_heads + 2 * c.num_kv_heads;
        let mut outputs = layer.qkv.iter().map(|l| l.forward(x)).collect::<Result<Vec<_>>>()?;
        let fused = if outputs.len() == 1 { outputs.remove(0) } else { Tensor::cat(&outputs, 2)? };
        let all = if total == 1 {
            fused.reshape((1, heads, 1, c.head_dim))?
        } else {
            fused.reshape((1, total, heads, c.head_dim))?.transpose(1, 2)?.contiguous()?
        };
        let q = self.rotary.apply(&all.narrow(1, 0, c.num_heads)?, cos, sin)?;
        let k = self.rotary.apply(&all.narrow(1, c.num_heads, c.num_kv_heads)?, cos, sin)?;
        let v = all.narrow(1, c.num_heads + c.num_kv_heads, c.num_kv_heads)?;
        Ok((q, k, v))
    }

    /// Attention for a step of single-token sequences, batched over the sequences;
    /// q, k and v are (1, heads, sequences, dim). Returns (1, sequences, heads × dim).
    fn attend_batched(
        &self,
        index: usize,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: &Tensor,
        segments: &mut [Segment<'_>],
    ) -> Result<Tensor> {
        let c = &self.config;
        let batch = segments.len();
        let longest = mask.dim(3)?;
        // (sequences, kv heads, 1, dim), one slice per sequence's cache.
        let per_sequence = |t: &Tensor| t.transpose(1, 2)?.contiguous()?.reshape((batch, c.num_kv_heads, 1, c.head_dim));
        let (k, v) = (per_sequence(k)?, per_sequence(v)?);
        let mut keys = Vec::with_capacity(batch);
        let mut values = Vec::with_capacity(batch);
        for (b, segment) in segments.iter_mut().enumerate() {
            let LayerCache::Device(cache) = &mut segment.cache.layers[index] else {
                candle_core::bail!("a host cache reached the device step");
            };
            cache.append(&k.narrow(0, b, 1)?, &v.narrow(0, b, 1)?)?;
            let full = |data: &Option<Tensor>| -> Result<Tensor> {
                data.as_ref().ok_or_else(|| candle_core::Error::Msg("empty cache".into()))?.narrow(2, 0, longest)
            };
            keys.push(full(cache.k_cache().all_data())?);
            values.push(full(cache.v_cache().all_data())?);
        }
        let (keys, values) = (Tensor::cat(&keys, 0)?, Tensor::cat(&values, 0)?);
        let group = c.num_heads / c.num_kv_heads;
        let q = q.transpose(1, 2)?.contiguous()?.reshape((batch, c.num_kv_heads, group, c.head_dim))?;
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let scores = q.matmul(&keys.t()?)?.affine(scale, 0.0)?.broadcast_add(mask)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        weights.matmul(&values)?.reshape((1, batch, c.num_heads * c.head_dim))
    }

    /// Attention sequence by sequence, each against its own cache; q, k and v are
    /// (1, heads, tokens, dim) with the sequences' tokens packed. Returns (1, tokens, heads × dim).
    fn attend_each(
        &self,
        index: usize,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        masks: &[Option<Tensor>],
        segments: &mut [Segment<'_>],
    ) -> Result<Tensor> {
        let c = &self.config;
        let total = q.dim(2)?;

        let group = c.num_heads / c.num_kv_heads;
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let mut outputs = Vec::with_capacity(segments.len());
        let mut offset = 0;
        for (segment, mask) in segments.iter_mut().zip(masks) {
            let len = segment.tokens.len();
            let LayerCache::Device(cache) = &mut segment.cache.layers[index] else {
                candle_core::bail!("a host cache reached the device step");
            };
            let part = |t: &Tensor| if total == len { t.contiguous() } else { t.narrow(2, offset, len)?.contiguous() };
            let (k, v) = cache.append(&part(k)?, &part(v)?)?;
            let (k, v) = (k.contiguous()?, v.contiguous()?);
            // The query heads that share a KV head attend together: (1, kv heads, group × tokens, dim),
            // so keys and values are never repeated.
            let q = part(q)?.reshape((1, c.num_kv_heads, group * len, c.head_dim))?;
            let mut scores = q.matmul(&k.t()?)?.affine(scale, 0.0)?;
            if let Some(mask) = mask {
                scores = scores.broadcast_add(mask)?;
            }
            let weights = candle_nn::ops::softmax_last_dim(&scores)?;
            let out = weights.matmul(&v)?.reshape((1, c.num_heads, len, c.head_dim))?;
            outputs.push(if len == 1 {
                out.reshape((1, 1, c.num_heads * c.head_dim))?
            } else {
                out.transpose(1, 2)?.reshape((1, len, c.num_heads * c.head_dim))?
            });
            offset += len;
        }
        if outputs.len() == 1 { Ok(outputs.remove(0)) } else { Tensor::cat(&outputs, 1) }
    }
}

/// Mask for `len` new tokens after `past` cached ones, repeated for the `group`
/// query heads that share a KV head: token i sees positions up to past + i.
fn causal_mask(len: usize, past: usize, group: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..group * len)
        .flat_map(|row| {
            let i = row % len;
            (0..past + len).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Tensor::from_vec(mask, (group * len, past + len), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_mask_lets_each_token_see_the_past_and_itself() {
        let mask = causal_mask(2, 1, 2, &Device::Cpu).unwrap().to_vec2::<f32>().unwrap();
        let rows = vec![vec![0.0, 0.0, f32::NEG_INFINITY], vec![0.0, 0.0, 0.0]];
        assert_eq!(mask, [rows.clone(), rows].concat());
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
