//! The engine: one thread owns the model and serves many independent chat
//! requests together. Callers hold a cheap `Engine` handle, send a request and
//! await its reply. Each step packs the prompts of newly admitted sequences and
//! the last token of every running one into one forward pass; sequences join
//! and leave between steps. A KV-cache budget bounds memory: requests wait in
//! the queue until their tokens fit.

pub mod attention;
pub mod model;
pub mod quantized;
pub mod spin_pool;
pub mod vecmath;

use crate::tokenizer::TextTokenizer;
use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};
use model::{Llama, Segment, SequenceCache};
use std::collections::VecDeque;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Debug, PartialEq)]
pub struct GenerationParams {
    /// Most tokens to generate (`playpen eval` uses 300).
    pub max_tokens: usize,
    /// 0 means greedy, as the challenge evaluates.
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// Generation ends when the completion contains one of these; it is cut before it.
    pub stop: Vec<String>,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self { max_tokens: 300, temperature: 0.0, top_p: None, seed: 42, stop: Vec::new() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    EndOfTurn,
    StopString,
    Length,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub completion_ids: Vec<u32>,
    pub completion: String,
    pub finish: FinishReason,
    /// Prompt tokens whose keys and values came from an earlier request's cache, not computed again.
    pub reused_prompt_tokens: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("the prompt and max_tokens need {needed} tokens of KV cache, more than the budget of {budget}")]
    TooLong { needed: usize, budget: usize },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the engine has stopped")]
    Stopped,
    #[error("the deadline passed before the generation ended")]
    DeadlinePassed,
}

#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Tokens of KV cache all running sequences may reserve together (prompt + max_tokens each).
    pub kv_budget_tokens: usize,
    /// Most sequences in one step.
    pub max_batch: usize,
    /// Keep finished sequences' caches (CPU only) for prompts that start with the same tokens,
    /// as a player's next turn repeats its whole history. They count against the budget and
    /// give way, oldest first, to requests that need room.
    pub reuse_prefixes: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { kv_budget_tokens: 64 * 1024, max_batch: 64, reuse_prefixes: true }
    }
}

/// The fewest shared tokens worth reusing a cache for.
const MIN_REUSED_TOKENS: usize = 16;

struct Job {
    prompt_ids: Vec<u32>,
    params: GenerationParams,
    reply: oneshot::Sender<Result<Generation, EngineError>>,
}

/// A handle to the engine thread; clone it freely.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Engine {
    /// Moves the model into its own thread and returns the handle to it.
    pub fn spawn(model: Llama, tokenizer: TextTokenizer, config: EngineConfig) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || Scheduler::new(model, tokenizer, config).run(receiver))
            .expect("spawn the engine thread");
        Self { jobs }
    }

    fn submit(&self, prompt_ids: Vec<u32>, params: GenerationParams) -> oneshot::Receiver<Result<Generation, EngineError>> {
        let (reply, receiver) = oneshot::channel();
        // A send error means the engine thread is gone; the dropped reply reports it.
        let _ = self.jobs.send(Job { prompt_ids, params, reply });
        receiver
    }

    pub async fn generate(&self, prompt_ids: Vec<u32>, params: GenerationParams) -> Result<Generation, EngineError> {
        self.submit(prompt_ids, params).await.unwrap_or(Err(EngineError::Stopped))
    }

    /// For callers outside an async runtime (the command line).
    pub fn generate_blocking(&self, prompt_ids: Vec<u32>, params: GenerationParams) -> Result<Generation, EngineError> {
        self.submit(prompt_ids, params).blocking_recv().unwrap_or(Err(EngineError::Stopped))
    }

    /// As `generate_blocking`, but gives up at `deadline`: the request is
    /// then dropped, which frees its place in the batch at the next step.
    pub fn generate_before(
        &self,
        prompt_ids: Vec<u32>,
        params: GenerationParams,
        deadline: std::time::Instant,
    ) -> Result<Generation, EngineError> {
        use tokio::sync::oneshot::error::TryRecvError;
        let mut reply = self.submit(prompt_ids, params);
        loop {
            match reply.try_recv() {
                Ok(result) => return result,
                Err(TryRecvError::Closed) => return Err(EngineError::Stopped),
                Err(TryRecvError::Empty) if std::time::Instant::now() >= deadline => return Err(EngineError::DeadlinePassed),
                // Checked often enough to stop within a step or two, rarely enough to cost nothing.
                Err(TryRecvError::Empty) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }

    /// Submits every request at once, so they are served together; replies in request order.
    pub fn generate_many_blocking(
        &self,
        requests: Vec<(Vec<u32>, GenerationParams)>,
    ) -> Vec<Result<Generation, EngineError>> {
        let receivers: Vec<_> = requests.into_iter().map(|(ids, params)| self.submit(ids, params)).collect();
        receivers.into_iter().map(|r| r.blocking_recv().unwrap_or(Err(EngineError::Stopped))).collect()
    }
}

/// One admitted request, from prefill to its last token.
struct Sequence {
    job: Job,
    cache: SequenceCache,
    sampler: LogitsProcessor,
    completion: Vec<u32>,
    /// Tokens to feed in the next step: the prompt first, then each sampled token.
    pending: Vec<u32>,
    reserved: usize,
    reused: usize,
}

/// A finished sequence's cache and the tokens it holds, kept for a prompt that starts with them.
struct Kept {
    tokens: Vec<u32>,
    cache: SequenceCache,
}

struct Scheduler {
    model: Llama,
    tokenizer: TextTokenizer,
    config: EngineConfig,
    waiting: VecDeque<Job>,
    running: Vec<Sequence>,
    /// Oldest first.
    kept: VecDeque<Kept>,
}

fn sampling(params: &GenerationParams) -> Sampling {
    match (params.temperature, params.top_p) {
        (t, _) if t <= 0.0 => Sampling::ArgMax,
        (temperature, Some(p)) => Sampling::TopP { p, temperature },
        (temperature, None) => Sampling::All { temperature },
    }
}

impl Scheduler {
    fn new(model: Llama, tokenizer: TextTokenizer, config: EngineConfig) -> Self {
        Self { model, tokenizer, config, waiting: VecDeque::new(), running: Vec::new(), kept: VecDeque::new() }
    }

    fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        loop {
            if self.running.is_empty() && self.waiting.is_empty() {
                match jobs.blocking_recv() {
                    Some(job) => self.waiting.push_back(job),
                    None => return,
                }
            }
            while let Ok(job) = jobs.try_recv() {
                self.waiting.push_back(job);
            }
            self.admit();
            // A caller that stopped waiting has cancelled: free its slot.
            self.running.retain(|s| !s.job.reply.is_closed());
            if !self.running.is_empty() {
                self.step();
            }
        }
    }

    /// KV-cache tokens the running sequences have reserved, and those the kept caches hold.
    fn reserved(&self) -> usize {
        self.running.iter().map(|s| s.reserved).sum::<usize>() + self.kept.iter().map(|k| k.tokens.len()).sum::<usize>()
    }

    /// A cache for `prompt` and the tokens still to feed: the kept cache sharing
    /// the longest prefix with it, cut back to that prefix, or a new one.
    fn cache_for(&mut self, prompt: &[u32]) -> (SequenceCache, Vec<u32>, usize) {
        let shared = |kept: &Kept| kept.tokens.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let best = self.kept.iter().enumerate().map(|(i, kept)| (shared(kept), i)).max();
        // At least one prompt token is fed, for the logits of the first new token.
        match best.map(|(length, i)| (length.min(prompt.len() - 1), i)) {
            Some((length, i)) if length >= MIN_REUSED_TOKENS => {
                let Kept { mut cache, .. } = self.kept.remove(i).expect("index from the search");
                cache.truncate(length);
                (cache, prompt[length..].to_vec(), length)
            }
            _ => (self.model.new_cache(), prompt.to_vec(), 0),
        }
    }

    /// Keeps a finished sequence's cache for a later prompt that repeats its tokens.
    fn keep(&mut self, prompt: Vec<u32>, completion: Vec<u32>, cache: SequenceCache) {
        if !self.config.reuse_prefixes || !cache.can_truncate() {
            return;
        }
        // The cache holds the prompt and every sampled token but the last.
        let mut tokens = prompt;
        tokens.extend(completion);
        tokens.truncate(cache.len());
        self.kept.push_back(Kept { tokens, cache });
        while self.kept.len() > self.config.max_batch {
            self.kept.pop_front();
        }
    }

    fn admit(&mut self) {
        while let Some(job) = self.waiting.front() {
            let needed = job.prompt_ids.len() + job.params.max_tokens;
            let rejection = if job.prompt_ids.is_empty() {
                Some(EngineError::EmptyPrompt)
            } else if needed > self.config.kv_budget_tokens || needed > self.model.config.max_positions {
                Some(EngineError::TooLong { needed, budget: self.config.kv_budget_tokens.min(self.model.config.max_positions) })
            } else {
                None
            };
            if let Some(error) = rejection {
                let job = self.waiting.pop_front().expect("front exists");
                let _ = job.reply.send(Err(error));
                continue;
            }
            // Kept caches give way to requests, oldest first.
            while self.reserved() + needed > self.config.kv_budget_tokens && self.kept.pop_front().is_some() {}
            if self.reserved() + needed > self.config.kv_budget_tokens || self.running.len() >= self.config.max_batch {
                return;
            }
            let job = self.waiting.pop_front().expect("front exists");
            let (cache, pending, reused) = self.cache_for(&job.prompt_ids);
            self.running.push(Sequence {
                cache,
                sampler: LogitsProcessor::from_sampling(job.params.seed, sampling(&job.params)),
                completion: Vec::new(),
                pending,
                reserved: needed,
                reused,
                job,
            });
        }
    }

    fn step(&mut self) {
        let mut segments: Vec<Segment<'_>> = self
            .running
            .iter_mut()
            .map(|s| Segment { tokens: &s.pending, cache: &mut s.cache })
            .collect();
        let logits = match self.model.forward(&mut segments) {
            Ok(logits) => logits,
            Err(error) => {
                for sequence in self.running.drain(..) {
                    let _ = sequence.job.reply.send(Err(EngineError::Inference(error.to_string())));
                }
                return;
            }
        };
        let mut finished = Vec::new();
        for (row, sequence) in self.running.iter_mut().enumerate() {
            match advance(&self.tokenizer, sequence, &logits, row) {
                Ok(None) => {}
                Ok(Some(generation)) => finished.push((row, Ok(generation))),
                Err(error) => finished.push((row, Err(error))),
            }
        }
        for (row, result) in finished.into_iter().rev() {
            let Sequence { job, cache, completion, .. } = self.running.swap_remove(row);
            let _ = job.reply.send(result);
            self.keep(job.prompt_ids, completion, cache);
        }
    }
}

/// Samples the next token of one sequence; returns its generation once it is done.
fn advance(tokenizer: &TextTokenizer, sequence: &mut Sequence, logits: &Tensor, row: usize) -> Result<Option<Generation>, EngineError> {
    let inference = |e: candle_core::Error| EngineError::Inference(e.to_string());
    let token = sequence.sampler.sample(&logits.get(row).map_err(inference)?).map_err(inference)?;
    sequence.pending = vec![token];
    let params = &sequence.job.params;
    if tokenizer.stop_ids.contains(&token) {
        return finish(tokenizer, sequence, FinishReason::EndOfTurn).map(Some);
    }
    sequence.completion.push(token);
    if !params.stop.is_empty() {
        let text = tokenizer.decode(&sequence.completion).map_err(EngineError::Inference)?;
        if let Some(cut) = params.stop.iter().filter_map(|stop| text.find(stop.as_str())).min() {
            return Ok(Some(Generation {
                completion_ids: sequence.completion.clone(),
                completion: text[..cut].to_string(),
                finish: FinishReason::StopString,
                reused_prompt_tokens: sequence.reused,
            }));
        }
    }
    if sequence.completion.len() >= params.max_tokens {
        return finish(tokenizer, sequence, FinishReason::Length).map(Some);
    }
    Ok(None)
}

fn finish(tokenizer: &TextTokenizer, sequence: &Sequence, finish: FinishReason) -> Result<Generation, EngineError> {
    Ok(Generation {
        completion_ids: sequence.completion.clone(),
        completion: tokenizer.decode(&sequence.completion).map_err(EngineError::Inference)?,
        finish,
        reused_prompt_tokens: sequence.reused,
    })
}
