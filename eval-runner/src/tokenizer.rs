//! Text to token ids and back, from a `tokenizer.json` or rebuilt from a GGUF
//! file's own vocabulary, merges and special tokens.

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

/// Llama 3's pre-tokenizer pattern (also used by llama.cpp's `llama-bpe`).
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Tokens that end a turn in the chat formats we serve, whatever the model's config says.
const END_OF_TURN_TOKENS: [&str; 4] = ["<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end_of_text|>"];

#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    /// Every token that ends generation.
    pub stop_ids: Vec<u32>,
    pub chat_template: Option<String>,
}

/// A GGUF file's tokenizer metadata, as plain values.
pub struct GgufVocabulary {
    pub model: String,
    pub pre: Option<String>,
    pub tokens: Vec<String>,
    pub token_types: Vec<i32>,
    pub merges: Vec<String>,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub chat_template: Option<String>,
}

const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;

impl TextTokenizer {
    /// Rebuilds the byte-level BPE tokenizer that llama.cpp would use for this vocabulary.
    pub fn from_gguf(vocabulary: GgufVocabulary) -> Result<Self, String> {
        if vocabulary.model != "gpt2" {
            return Err(format!(
                "tokenizer type \"{}\" is not supported (only byte-level BPE, \"gpt2\")",
                vocabulary.model
            ));
        }
        let pre_tokenizer: PreTokenizerWrapper = match vocabulary.pre.as_deref().unwrap_or("default") {
            "smollm" => Sequence::new(vec![
                Digits::new(true).into(),
                ByteLevel::new(false, true, true).into(),
            ])
            .into(),
            "gpt2" | "default" => ByteLevel::new(false, true, true).into(),
            "llama-bpe" | "llama3" | "llama-v3" => Sequence::new(vec![
                Split::new(SplitPattern::Regex(LLAMA3_PATTERN.into()), SplitDelimiterBehavior::Isolated, false)
                    .map_err(|e| e.to_string())?
                    .into(),
                ByteLevel::new(false, true, false).into(),
            ])
            .into(),
            other => return Err(format!("pre-tokenizer \"{other}\" is not supported")),
        };
        let vocab: tokenizers::models::bpe::Vocab =
            vocabulary.tokens.iter().enumerate().map(|(id, token)| (token.clone(), id as u32)).collect();
        let merges = vocabulary
            .merges
            .iter()
            .map(|merge| {
                merge
                    .split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| format!("malformed merge \"{merge}\""))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| format!("cannot build the tokenizer: {e}"))?;
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(pre_tokenizer));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let specials: Vec<AddedToken> = vocabulary
            .tokens
            .iter()
            .zip(&vocabulary.token_types)
            .filter(|(_, kind)| matches!(**kind, CONTROL | USER_DEFINED))
            .map(|(token, _)| AddedToken::from(token.clone(), true))
            .collect();
        inner.add_special_tokens(&specials);

        let token = |id: Option<u32>| id.and_then(|id| vocabulary.tokens.get(id as usize).cloned());
        let bos_token = token(vocabulary.bos_id);
        let eos_token = token(vocabulary.eos_id);
        Ok(Self::assemble(inner, bos_token, eos_token, vocabulary.eos_id.into_iter().collect(), vocabulary.chat_template))
    }

    /// Loads `tokenizer.json`; the rest comes from `tokenizer_config.json` and `generation_config.json`.
    pub fn from_files(
        tokenizer_json: &std::path::Path,
        config: &serde_json::Value,
        generation_config: Option<&serde_json::Value>,
    ) -> Result<Self, String> {
        let inner = Tokenizer::from_file(tokenizer_json)
            .map_err(|e| format!("{}: not a valid tokenizer.json: {e}", tokenizer_json.display()))?;
        let special = |key: &str| match &config[key] {
            serde_json::Value::String(token) => Some(token.clone()),
            serde_json::Value::Object(token) => token.get("content").and_then(|c| c.as_str()).map(String::from),
            _ => None,
        };
        let eos_ids = match generation_config.map(|g| &g["eos_token_id"]) {
            Some(serde_json::Value::Number(id)) => id.as_u64().into_iter().map(|id| id as u32).collect(),
            Some(serde_json::Value::Array(ids)) => ids.iter().filter_map(|id| id.as_u64()).map(|id| id as u32).collect(),
            _ => Vec::new(),
        };
        let chat_template = config["chat_template"].as_str().map(String::from);
        Ok(Self::assemble(inner, special("bos_token"), special("eos_token"), eos_ids, chat_template))
    }

    fn assemble(
        inner: Tokenizer,
        bos_token: Option<String>,
        eos_token: Option<String>,
        mut stop_ids: Vec<u32>,
        chat_template: Option<String>,
    ) -> Self {
        let named = eos_token.iter().map(String::as_str).chain(END_OF_TURN_TOKENS);
        stop_ids.extend(named.filter_map(|token| inner.token_to_id(token)));
        stop_ids.sort_unstable();
        stop_ids.dedup();
        Self { inner, bos_token, eos_token, stop_ids, chat_template }
    }

    /// Token ids of `text`; special tokens written in the text are recognised, no BOS is added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        self.inner.encode(text, false).map(|e| e.get_ids().to_vec()).map_err(|e| e.to_string())
    }

    /// The text of `ids`, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String, String> {
        self.inner.decode(ids, true).map_err(|e| e.to_string())
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
