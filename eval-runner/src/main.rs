//! `eval-runner`: evaluate, generate, tokenize and benchmark with a Llama-family model.

use anyhow::{bail, Context};
use candle_core::{DType, Device};
use clap::{Parser, Subcommand, ValueEnum};
use eval_runner::bench::{self, BenchConfig};
use eval_runner::chat::{ChatTemplate, Message};
use eval_runner::engine::{Engine, EngineConfig, GenerationParams};
use eval_runner::evaluate::{self, Evaluation, Plan, Prompter};
use eval_runner::games::catalog::{Resources, Selected, Suite};
use eval_runner::games::results::ModelRecord;
use eval_runner::load::{self, LoadedModel};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "eval-runner", version, about = "Runs LM-Playschool agents: inference, games, benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeviceChoice {
    Cpu,
    Cuda,
}

#[derive(Clone, Copy, ValueEnum)]
enum DTypeChoice {
    F32,
    Bf16,
    F16,
}

#[derive(clap::Args)]
struct ModelArgs {
    /// A .gguf file, a Hugging Face model folder, or `default` for the embedded SmolLM2-135M-Instruct.
    #[arg(long)]
    model: String,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    /// Compute dtype; defaults to f32 on CPU and bf16 on CUDA.
    #[arg(long, value_enum)]
    dtype: Option<DTypeChoice>,
    /// CPU threads for inference (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SuiteChoice {
    Clem,
    Static,
    All,
}

#[derive(Subcommand)]
enum Command {
    /// Play the games and static benchmarks of a clembench checkout, as `playpen eval` does.
    Eval {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, value_enum, default_value = "all")]
        suite: SuiteChoice,
        /// A clembench checkout: each game's clemgame.json, in/ and resources/.
        #[arg(long)]
        games_dir: PathBuf,
        /// Where the results folder is written; a run restarted on it skips finished episodes.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
        /// A JSON list of {"game", "experiment", "game_id"} to play (default: every instance).
        #[arg(long)]
        instances: Option<PathBuf>,
        /// The name the results record (default: the model file's name).
        #[arg(long)]
        model_name: Option<String>,
        /// taboo: NLTK's English stopword list (default: looked up where NLTK keeps its data).
        #[arg(long)]
        stopwords: Option<PathBuf>,
        /// codenames: a WordNet 3.0 dictionary folder (default: NLTK's data, else /usr/share/wordnet).
        #[arg(long)]
        wordnet: Option<PathBuf>,
        /// Episodes in play at once; the engine batches their model calls.
        #[arg(long, default_value_t = 32)]
        parallel: usize,
        /// When to stop (e.g. 2h, 90m, 1h30m): unfinished episodes count as not played.
        #[arg(long, default_value = "2h", value_parser = evaluate::parse_duration)]
        time_limit: std::time::Duration,
        #[arg(long, default_value_t = 300)]
        max_tokens: usize,
        #[arg(long, default_value_t = 0.0)]
        temperature: f64,
        /// Compute every prompt in full, instead of starting from the cache of an
        /// earlier call that shares its beginning (CPU; for comparisons).
        #[arg(long)]
        no_prefix_reuse: bool,
    },
    /// Generate a reply to a prompt or a chat, rendered with the model's chat template.
    Generate {
        #[command(flatten)]
        model: ModelArgs,
        /// A single user message.
        #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
        prompt: Option<String>,
        /// A JSON file holding a list of {"role", "content"} messages.
        #[arg(long)]
        chat: Option<PathBuf>,
        #[arg(long, default_value_t = 300)]
        max_tokens: usize,
        /// 0 is greedy decoding.
        #[arg(long, default_value_t = 0.0)]
        temperature: f64,
        #[arg(long)]
        top_p: Option<f64>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Stop when the completion contains this text (repeatable).
        #[arg(long)]
        stop: Vec<String>,
        /// Print {"prompt", "prompt_ids", "completion_ids", "completion"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the token ids of TEXT as a JSON list (special tokens parsed, no BOS added).
    Tokenize {
        #[command(flatten)]
        model: ModelArgs,
        text: String,
    },
    /// Measure prefill and decode throughput.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value_t = 128)]
        prompt_len: usize,
        #[arg(long, default_value_t = 64)]
        gen_len: usize,
        /// Batch sizes to measure (repeatable).
        #[arg(long, default_values_t = [1])]
        batch: Vec<usize>,
        #[arg(long)]
        json: bool,
    },
}

fn open(args: &ModelArgs) -> anyhow::Result<(LoadedModel, Device)> {
    let device = match args.device {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda => Device::new_cuda(0).context("cannot open the CUDA device (built without --features cuda?)")?,
    };
    let dtype = match (args.dtype, &device) {
        (Some(DTypeChoice::F32), _) | (None, Device::Cpu) => DType::F32,
        (Some(DTypeChoice::Bf16), _) | (None, _) => DType::BF16,
        (Some(DTypeChoice::F16), _) => DType::F16,
    };
    let path = load::resolve_model_path(&args.model)?;
    // Large models take a while to read: say so on a terminal (the spinner hides itself elsewhere).
    let spinner = indicatif::ProgressBar::new_spinner().with_message(format!("loading {}", path.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let loaded = load::load(&path, &device, dtype);
    spinner.finish_and_clear();
    let mut loaded = loaded?;
    if let Some(threads) = args.threads {
        anyhow::ensure!(threads > 0, "--threads must be at least 1");
        loaded.model = loaded.model.with_threads(threads);
    }
    Ok((loaded, device))
}

fn read_chat(path: &PathBuf) -> anyhow::Result<Vec<Message>> {
    read_list(path, "{\"role\", \"content\"} messages", "the chat has no messages")
}

/// An instance list: a JSON list of {"game", "experiment", "game_id"}.
fn read_selection(path: &PathBuf) -> anyhow::Result<Vec<Selected>> {
    read_list(path, "{\"game\", \"experiment\", \"game_id\"}", "the instance list is empty")
}

/// A non-empty JSON list from a file; `items` says what the list holds, `empty` what an empty one lacks.
fn read_list<T: serde::de::DeserializeOwned>(path: &PathBuf, items: &str, empty: &str) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let list: Vec<T> =
        serde_json::from_str(&text).with_context(|| format!("{}: expected a JSON list of {items}", path.display()))?;
    if list.is_empty() {
        bail!("{}: {empty}", path.display());
    }
    Ok(list)
}

fn shown(score: Option<f64>) -> String {
    match score {
        None => "not run".to_string(),
        Some(s) if s.is_nan() => "n/a (no episode played)".to_string(),
        Some(s) => format!("{s:.2}"),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval {
            model,
            suite,
            games_dir,
            results_dir,
            instances,
            model_name,
            stopwords,
            wordnet,
            parallel,
            time_limit,
            max_tokens,
            temperature,
            no_prefix_reuse,
        } => {
            anyhow::ensure!(parallel > 0, "--parallel must be at least 1");
            anyhow::ensure!(games_dir.is_dir(), "--games-dir {}: no such folder", games_dir.display());
            let selection = instances.as_ref().map(read_selection).transpose()?;
            let path = load::resolve_model_path(&model.model)?;
            let name = model_name.unwrap_or_else(|| evaluate::default_model_name(&path));
            evaluate::check_model_name(&name).map_err(anyhow::Error::msg)?;
            let suites = match suite {
                SuiteChoice::Clem => vec![Suite::Clem],
                SuiteChoice::Static => vec![Suite::Static],
                SuiteChoice::All => vec![Suite::Clem, Suite::Static],
            };
            let record = ModelRecord {
                spec: serde_json::json!({
                    "model_name": name,
                    "backend": "eval-runner",
                    "model_id": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                    "model_config": {"model_path": path},
                }),
                name,
                temperature,
                max_tokens,
            };
            let params = GenerationParams { max_tokens, temperature, ..GenerationParams::default() };
            let evaluation = Evaluation {
                games_dir,
                results_dir: results_dir.clone(),
                suites,
                model: record,
                selection,
                resources: Resources { stopwords, wordnet },
                parallel,
                time_limit,
                show_progress: std::io::stderr().is_terminal(),
            };
            // Game data and the instance list are checked before the model loads.
            let plan = Plan::new(&evaluation)?;
            let (LoadedModel { model, tokenizer }, _) = open(&model)?;
            let prompter = Prompter::new(tokenizer.clone())?;
            let config = EngineConfig { reuse_prefixes: !no_prefix_reuse, ..EngineConfig::default() };
            let engine = Engine::spawn(model, tokenizer, config);
            let outcome = evaluate::evaluate(&engine, &prompter, &params, &evaluation, plan)?;
            if !outcome.unsupported.is_empty() {
                eprintln!("not implemented, skipped: {}", outcome.unsupported.join(", "));
            }
            for failure in &outcome.failures {
                eprintln!("not played: {failure}");
            }
            println!(
                "played {} episodes, {} finished before, {} not played{}",
                outcome.played,
                outcome.resumed,
                outcome.not_played,
                if outcome.cut_short { " (the time limit was reached)" } else { "" }
            );
            let seconds = outcome.elapsed.as_secs_f64();
            println!(
                "generated {} tokens in {seconds:.1} s ({:.1} tok/s)",
                outcome.generated_tokens,
                outcome.generated_tokens as f64 / seconds.max(1e-3)
            );
            println!("clemscore {} · statscore {}", shown(outcome.clemscore), shown(outcome.statscore));
            println!("results: {}", results_dir.display());
        }
        Command::Generate { model, prompt, chat, max_tokens, temperature, top_p, seed, stop, json } => {
            let messages = match (prompt, chat) {
                (Some(prompt), _) => vec![Message::new("user", &prompt)],
                (None, Some(path)) => read_chat(&path)?,
                (None, None) => bail!("give --prompt or --chat"),
            };
            let (LoadedModel { model, tokenizer }, _) = open(&model)?;
            let template = tokenizer.chat_template.as_deref().context("the model has no chat template")?;
            let prompt = ChatTemplate::new(template)
                .and_then(|t| t.render(&messages, true, tokenizer.bos_token.as_deref(), tokenizer.eos_token.as_deref()))
                .map_err(anyhow::Error::msg)?;
            let prompt_ids = tokenizer.encode(&prompt).map_err(anyhow::Error::msg)?;
            let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
            let params = GenerationParams { max_tokens, temperature, top_p, seed, stop };
            let generation = engine.generate_blocking(prompt_ids.clone(), params)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "prompt": prompt,
                        "prompt_ids": prompt_ids,
                        "completion_ids": generation.completion_ids,
                        "completion": generation.completion,
                        "finish": generation.finish,
                    })
                );
            } else {
                println!("{}", generation.completion);
            }
        }
        Command::Tokenize { model, text } => {
            let (LoadedModel { tokenizer, .. }, _) = open(&model)?;
            println!("{}", serde_json::to_string(&tokenizer.encode(&text).map_err(anyhow::Error::msg)?)?);
        }
        Command::Bench { model, prompt_len, gen_len, batch, json } => {
            let name = model.model.clone();
            let (loaded, device) = open(&model)?;
            let report = bench::run(&loaded, &device, &BenchConfig { model: name, prompt_len, gen_len, batches: batch })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
