//! Model files to a ready model and tokenizer: a GGUF file (quantized), or a
//! Hugging Face folder of safetensors. Every problem with the files is one
//! clear error, never a panic.

use crate::engine::model::{Layer, Linear, Llama, Llama3RopeScaling, ModelConfig, RmsNorm};
use crate::engine::quantized::QuantLinear;
use crate::tokenizer::{GgufVocabulary, TextTokenizer};
use candle_core::quantized::{gguf_file, QMatMul};
use candle_core::{DType, Device, Tensor};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// Positions the rotary tables cover at most; more than any game episode needs.
const MAX_POSITIONS: usize = 16_384;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// One line per problem: candle appends a backtrace to its errors when RUST_BACKTRACE is set.
fn file_error(path: &Path, message: impl Into<String>) -> LoadError {
    let message = message.into();
    let first_line = message.lines().next().unwrap_or_default().to_string();
    LoadError::File { path: path.to_path_buf(), message: first_line }
}

/// The embedded default model: SmolLM2-135M-Instruct (Q4_1), installed by the setup script.
pub fn default_model_path() -> PathBuf {
    if let Some(path) = std::env::var_os("PLAYSCHOOL_DEFAULT_MODEL") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/playschool/models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// `default` names the embedded model; anything else is a path.
pub fn resolve_model_path(name: &str) -> Result<PathBuf, LoadError> {
    if name != "default" {
        return Ok(PathBuf::from(name));
    }
    let path = default_model_path();
    if path.is_file() {
        Ok(path)
    } else {
        Err(file_error(&path, "the embedded model is not installed (run ./scripts/install-model.sh)"))
    }
}

pub struct LoadedModel {
    pub model: Llama,
    pub tokenizer: TextTokenizer,
}

/// Loads a GGUF file or a safetensors folder, computing in `dtype` on `device`.
pub fn load(path: &Path, device: &Device, dtype: DType) -> Result<LoadedModel, LoadError> {
    if path.is_dir() {
        load_safetensors(path, device, dtype)
    } else if path.is_file() {
        load_gguf(path, device, dtype)
    } else {
        Err(file_error(path, "no such file or folder"))
    }
}

fn metadata<'a>(content: &'a gguf_file::Content, path: &Path, key: &str) -> Result<&'a gguf_file::Value, LoadError> {
    content.metadata.get(key).ok_or_else(|| file_error(path, format!("the GGUF metadata lacks {key}")))
}

fn metadata_u32(content: &gguf_file::Content, path: &Path, key: &str) -> Result<usize, LoadError> {
    metadata(content, path, key)?
        .to_u32()
        .map(|v| v as usize)
        .map_err(|e| file_error(path, format!("{key}: {e}")))
}

fn load_gguf(path: &Path, device: &Device, dtype: DType) -> Result<LoadedModel, LoadError> {
    let mut file = File::open(path).map_err(|e| file_error(path, format!("cannot open: {e}")))?;
    let mut magic = [0u8; 4];
    if file.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
        return Err(file_error(path, "not a GGUF file (wrong magic number); expected a .gguf file or a model folder"));
    }
    file.rewind().map_err(|e| file_error(path, e.to_string()))?;
    let content = gguf_file::Content::read(&mut file)
        .map_err(|e| file_error(path, format!("unreadable GGUF header (truncated or corrupt?): {e}")))?;
    check_gguf_size(&content, &file, path)?;

    let architecture = metadata(&content, path, "general.architecture")?
        .to_string()
        .map_err(|e| file_error(path, e.to_string()))?
        .clone();
    if architecture != "llama" {
        return Err(file_error(path, format!("architecture \"{architecture}\" is not supported (only llama)")));
    }
    let key = |name: &str| format!("llama.{name}");
    let num_heads = metadata_u32(&content, path, &key("attention.head_count"))?;
    let hidden_size = metadata_u32(&content, path, &key("embedding_length"))?;
    let config = ModelConfig {
        hidden_size,
        intermediate_size: metadata_u32(&content, path, &key("feed_forward_length"))?,
        num_layers: metadata_u32(&content, path, &key("block_count"))?,
        num_heads,
        num_kv_heads: metadata_u32(&content, path, &key("attention.head_count_kv"))?,
        head_dim: hidden_size / num_heads,
        vocab_size: 0,
        rms_norm_eps: metadata(&content, path, &key("attention.layer_norm_rms_epsilon"))?
            .to_f32()
            .map_err(|e| file_error(path, e.to_string()))? as f64,
        rope_theta: content.metadata.get(&key("rope.freq_base")).and_then(|v| v.to_f32().ok()).unwrap_or(10_000.0),
        rope_scaling: None,
        rope_interleaved: true,
        rope_freq_factors: None,
        max_positions: metadata_u32(&content, path, &key("context_length"))?.min(MAX_POSITIONS),
    };

    let tensor = |file: &mut File, name: &str| {
        content.tensor(file, name, device).map_err(|e| file_error(path, format!("tensor {name}: {e}")))
    };
    let dense = |file: &mut File, name: &str| -> Result<Tensor, LoadError> {
        tensor(file, name)?.dequantize(device).map_err(|e| file_error(path, format!("tensor {name}: {e}")))
    };
    let matmul = |file: &mut File, name: &str| -> Result<Linear, LoadError> {
        let weights = tensor(file, name)?;
        let error = |e: candle_core::Error| file_error(path, format!("tensor {name}: {e}"));
        if device.is_cpu() {
            if let Some(weights) = QuantLinear::from_qtensor(&weights).map_err(error)? {
                return Ok(Linear::Quantized(weights));
            }
        }
        QMatMul::from_qtensor(weights).map(Linear::Candle).map_err(error)
    };
    let rope_freq_factors = if content.tensor_infos.contains_key("rope_freqs.weight") {
        let factors = dense(&mut file, "rope_freqs.weight")?;
        Some(factors.to_dtype(DType::F32).and_then(|f| f.to_vec1()).map_err(|e| file_error(path, e.to_string()))?)
    } else {
        None
    };
    let config = ModelConfig { rope_freq_factors, ..config };
    let embeddings = dense(&mut file, "token_embd.weight")?;
    let eps = config.rms_norm_eps;
    let norm = |weight: Tensor| RmsNorm::new(weight, eps).map_err(|e| file_error(path, e.to_string()));
    let mut layers = Vec::with_capacity(config.num_layers);
    for i in 0..config.num_layers {
        let name = |part: &str| format!("blk.{i}.{part}.weight");
        layers.push(Layer {
            attention_norm: norm(dense(&mut file, &name("attn_norm"))?)?,
            q: matmul(&mut file, &name("attn_q"))?,
            k: matmul(&mut file, &name("attn_k"))?,
            v: matmul(&mut file, &name("attn_v"))?,
            o: matmul(&mut file, &name("attn_output"))?,
            ffn_norm: norm(dense(&mut file, &name("ffn_norm"))?)?,
            gate: matmul(&mut file, &name("ffn_gate"))?,
            up: matmul(&mut file, &name("ffn_up"))?,
            down: matmul(&mut file, &name("ffn_down"))?,
        });
    }
    let norm = norm(dense(&mut file, "output_norm.weight")?)?;
    // Small models tie the output projection to the embeddings.
    let lm_head = if content.tensor_infos.contains_key("output.weight") {
        matmul(&mut file, "output.weight")?
    } else {
        matmul(&mut file, "token_embd.weight")?
    };

    let strings = |key: &str| -> Result<Vec<String>, LoadError> {
        metadata(&content, path, key)?
            .to_vec()
            .map_err(|e| file_error(path, e.to_string()))?
            .iter()
            .map(|v| v.to_string().cloned().map_err(|e| file_error(path, format!("{key}: {e}"))))
            .collect()
    };
    let optional_id = |key: &str| content.metadata.get(key).and_then(|v| v.to_u32().ok());
    let tokens = strings("tokenizer.ggml.tokens")?;
    let vocabulary = GgufVocabulary {
        model: metadata(&content, path, "tokenizer.ggml.model")?.to_string().map_err(|e| file_error(path, e.to_string()))?.clone(),
        pre: content.metadata.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).cloned(),
        token_types: content
            .metadata
            .get("tokenizer.ggml.token_type")
            .and_then(|v| v.to_vec().ok())
            .map(|types| types.iter().map(|t| t.to_i32().unwrap_or(1)).collect())
            .unwrap_or_else(|| vec![1; tokens.len()]),
        merges: strings("tokenizer.ggml.merges")?,
        tokens,
        bos_id: optional_id("tokenizer.ggml.bos_token_id"),
        eos_id: optional_id("tokenizer.ggml.eos_token_id"),
        chat_template: content.metadata.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned(),
    };
    let config = ModelConfig { vocab_size: vocabulary.tokens.len(), ..config };
    let tokenizer = TextTokenizer::from_gguf(vocabulary).map_err(|e| file_error(path, e))?;
    let model = Llama::new(config, embeddings, layers, norm, lm_head, dtype)
        .map_err(|e| file_error(path, format!("cannot build the model: {e}")))?;
    Ok(LoadedModel { model, tokenizer })
}

/// A GGUF file cut short still has a readable header: compare its length with what the tensors need.
fn check_gguf_size(content: &gguf_file::Content, file: &File, path: &Path) -> Result<(), LoadError> {
    let needed = content
        .tensor_infos
        .values()
        .map(|info| {
            let dtype = info.ggml_dtype;
            content.tensor_data_offset
                + info.offset
                + (info.shape.elem_count() / dtype.block_size() * dtype.type_size()) as u64
        })
        .max()
        .unwrap_or(0);
    let actual = file.metadata().map(|m| m.len()).unwrap_or(0);
    if actual < needed {
        return Err(file_error(path, format!("truncated: the tensors need {needed} bytes, the file has {actual}")));
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<serde_json::Value, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| file_error(path, format!("not valid JSON: {e}")))
}

fn load_safetensors(dir: &Path, device: &Device, dtype: DType) -> Result<LoadedModel, LoadError> {
    let config_path = dir.join("config.json");
    if !config_path.is_file() {
        return Err(file_error(
            dir,
            "no config.json: a model folder needs config.json, tokenizer.json and model*.safetensors",
        ));
    }
    let json = read_json(&config_path)?;
    let architectures = json["architectures"].as_array().cloned().unwrap_or_default();
    if !architectures.iter().any(|a| a.as_str() == Some("LlamaForCausalLM")) {
        return Err(file_error(&config_path, format!("architectures {architectures:?} are not supported (only LlamaForCausalLM)")));
    }
    let weights_dtype = json["torch_dtype"].as_str().or(json["dtype"].as_str()).unwrap_or("float32");
    if !matches!(weights_dtype, "float32" | "bfloat16" | "float16") {
        return Err(file_error(&config_path, format!("weights of dtype {weights_dtype} are not supported (f32, bf16, f16)")));
    }
    let number = |key: &str| -> Result<usize, LoadError> {
        json[key].as_u64().map(|v| v as usize).ok_or_else(|| file_error(&config_path, format!("{key} is missing")))
    };
    let hidden_size = number("hidden_size")?;
    let num_heads = number("num_attention_heads")?;
    let scaling = &json["rope_scaling"];
    let config = ModelConfig {
        hidden_size,
        intermediate_size: number("intermediate_size")?,
        num_layers: number("num_hidden_layers")?,
        num_heads,
        num_kv_heads: json["num_key_value_heads"].as_u64().map_or(num_heads, |v| v as usize),
        head_dim: json["head_dim"].as_u64().map_or(hidden_size / num_heads, |v| v as usize),
        vocab_size: number("vocab_size")?,
        rms_norm_eps: json["rms_norm_eps"].as_f64().unwrap_or(1e-5),
        rope_theta: json["rope_theta"].as_f64().unwrap_or(10_000.0) as f32,
        rope_scaling: (scaling["rope_type"].as_str() == Some("llama3")).then(|| Llama3RopeScaling {
            factor: scaling["factor"].as_f64().unwrap_or(8.0) as f32,
            low_freq_factor: scaling["low_freq_factor"].as_f64().unwrap_or(1.0) as f32,
            high_freq_factor: scaling["high_freq_factor"].as_f64().unwrap_or(4.0) as f32,
            original_max_positions: scaling["original_max_position_embeddings"].as_u64().unwrap_or(8192) as usize,
        }),
        rope_interleaved: false,
        rope_freq_factors: None,
        max_positions: json["max_position_embeddings"].as_u64().map_or(MAX_POSITIONS, |v| (v as usize).min(MAX_POSITIONS)),
    };

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| file_error(dir, e.to_string()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(file_error(dir, "no model*.safetensors files"));
    }
    // SAFETY: the files are mapped read-only and not modified while the model lives.
    let weights = unsafe { candle_nn::VarBuilder::from_mmaped_safetensors(&files, dtype, device) }
        .map_err(|e| file_error(dir, format!("unreadable safetensors (truncated or corrupt?): {e}")))?;
    let get = |name: &str, shape: &[usize]| -> Result<Tensor, LoadError> {
        weights.get(shape, name).map_err(|e| file_error(dir, format!("tensor {name}: {e}")))
    };
    let c = &config;
    let norm = |weight: Tensor| RmsNorm::new(weight, c.rms_norm_eps).map_err(|e| file_error(dir, e.to_string()));
    let linear = |name: &str, out: usize, inp: usize| get(name, &[out, inp]).map(|w| Linear::Candle(QMatMul::Tensor(w)));
    let mut layers = Vec::with_capacity(c.num_layers);
    for i in 0..c.num_layers {
        let p = |part: &str| format!("model.layers.{i}.{part}.weight");
        layers.push(Layer {
            attention_norm: norm(get(&p("input_layernorm"), &[c.hidden_size])?)?,
            q: linear(&p("self_attn.q_proj"), c.num_heads * c.head_dim, c.hidden_size)?,
            k: linear(&p("self_attn.k_proj"), c.num_kv_heads * c.head_dim, c.hidden_size)?,
            v: linear(&p("self_attn.v_proj"), c.num_kv_heads * c.head_dim, c.hidden_size)?,
            o: linear(&p("self_attn.o_proj"), c.hidden_size, c.num_heads * c.head_dim)?,
            ffn_norm: norm(get(&p("post_attention_layernorm"), &[c.hidden_size])?)?,
            gate: linear(&p("mlp.gate_proj"), c.intermediate_size, c.hidden_size)?,
            up: linear(&p("mlp.up_proj"), c.intermediate_size, c.hidden_size)?,
            down: linear(&p("mlp.down_proj"), c.hidden_size, c.intermediate_size)?,
        });
    }
    let embeddings = get("model.embed_tokens.weight", &[c.vocab_size, c.hidden_size])?;
    let lm_head = if json["tie_word_embeddings"].as_bool().unwrap_or(false) {
        Linear::Candle(QMatMul::Tensor(embeddings.clone()))
    } else {
        linear("lm_head.weight", c.vocab_size, c.hidden_size)?
    };
    let norm = norm(get("model.norm.weight", &[c.hidden_size])?)?;

    let tokenizer_json = dir.join("tokenizer.json");
    if !tokenizer_json.is_file() {
        return Err(file_error(dir, "no tokenizer.json"));
    }
    let tokenizer_config = dir.join("tokenizer_config.json");
    let tokenizer_config = if tokenizer_config.is_file() { read_json(&tokenizer_config)? } else { serde_json::Value::Null };
    let generation_config = dir.join("generation_config.json");
    let generation_config = generation_config.is_file().then(|| read_json(&generation_config)).transpose()?;
    let tokenizer = TextTokenizer::from_files(&tokenizer_json, &tokenizer_config, generation_config.as_ref())
        .map_err(|e| file_error(dir, e))?;
    let model = Llama::new(config, embeddings, layers, norm, lm_head, dtype)
        .map_err(|e| file_error(dir, format!("cannot build the model: {e}")))?;
    Ok(LoadedModel { model, tokenizer })
}
