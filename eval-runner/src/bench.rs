//! Throughput of the model: prefill (prompt tokens per second) and decode
//! (generated tokens per second, all sequences together) at several batch sizes.

use crate::engine::model::{Segment, SequenceCache};
use crate::load::LoadedModel;
use candle_core::{Device, D};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::Instant;

pub struct BenchConfig {
    pub model: String,
    pub prompt_len: usize,
    pub gen_len: usize,
    pub batches: Vec<usize>,
}

#[derive(Serialize)]
pub struct BenchResult {
    pub batch: usize,
    pub prefill_tokens_per_s: f64,
    pub decode_tokens_per_s: f64,
}

#[derive(Serialize)]
pub struct BenchReport {
    pub model: String,
    pub device: String,
    pub dtype: String,
    pub prompt_len: usize,
    pub gen_len: usize,
    pub results: Vec<BenchResult>,
}

impl BenchReport {
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} on {} ({}), prompt {} tokens, {} generated\nbatch  prefill tok/s  decode tok/s\n",
            self.model, self.device, self.dtype, self.prompt_len, self.gen_len
        );
        for r in &self.results {
            out += &format!("{:>5}  {:>13.1}  {:>12.1}\n", r.batch, r.prefill_tokens_per_s, r.decode_tokens_per_s);
        }
        out
    }
}

/// A prompt of exactly `len` ids, cycling through ordinary text.
fn prompt_ids(loaded: &LoadedModel, len: usize) -> anyhow::Result<Vec<u32>> {
    let text = "The players take turns describing a word without saying it, and the guesser tries to name it. ";
    let ids = loaded.tokenizer.encode(text).map_err(anyhow::Error::msg)?;
    Ok(ids.iter().copied().cycle().take(len).collect())
}

fn measure(loaded: &LoadedModel, device: &Device, prompt: &[u32], gen_len: usize, batch: usize) -> anyhow::Result<BenchResult> {
    let model = &loaded.model;
    let mut caches: Vec<SequenceCache> = (0..batch).map(|_| model.new_cache()).collect();

    let started = Instant::now();
    let mut segments: Vec<Segment<'_>> = caches.iter_mut().map(|cache| Segment { tokens: prompt, cache }).collect();
    let mut next: Vec<u32> = model.forward(&mut segments)?.argmax(D::Minus1)?.to_vec1()?;
    device.synchronize()?;
    let prefill = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..gen_len {
        let tokens: Vec<[u32; 1]> = next.iter().map(|&t| [t]).collect();
        let mut segments: Vec<Segment<'_>> =
            caches.iter_mut().zip(&tokens).map(|(cache, token)| Segment { tokens: token, cache }).collect();
        next = model.forward(&mut segments)?.argmax(D::Minus1)?.to_vec1()?;
    }
    device.synchronize()?;
    let decode = started.elapsed().as_secs_f64();
    Ok(BenchResult {
        batch,
        prefill_tokens_per_s: (batch * prompt.len()) as f64 / prefill,
        decode_tokens_per_s: (batch * gen_len) as f64 / decode,
    })
}

pub fn run(loaded: &LoadedModel, device: &Device, config: &BenchConfig) -> anyhow::Result<BenchReport> {
    let prompt = prompt_ids(loaded, config.prompt_len)?;
    // One untimed pass warms caches and kernels.
    measure(loaded, device, &prompt[..prompt.len().min(8)], 2, 1)?;
    let progress = ProgressBar::new(config.batches.len() as u64)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} batch sizes {msg}").expect("valid template"));
    let mut results = Vec::new();
    for &batch in &config.batches {
        progress.set_message(format!("(batch {batch})"));
        results.push(measure(loaded, device, &prompt, config.gen_len, batch)?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(BenchReport {
        model: config.model.clone(),
        device: format!("{device:?}"),
        dtype: format!("{:?}", loaded.model.dtype()),
        prompt_len: config.prompt_len,
        gen_len: config.gen_len,
        results,
    })
}
