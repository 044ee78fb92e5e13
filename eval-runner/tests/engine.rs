//! The engine on the embedded model, checked against llama.cpp's recorded
//! output on the same GGUF file (`shared/reference/llamacpp/smollm2-greedy.json`).

use candle_core::{DType, Device};
use eval_runner::chat::{ChatTemplate, Message};
use eval_runner::engine::{Engine, EngineConfig, EngineError, FinishReason, Generation, GenerationParams};
use eval_runner::load::{self, LoadedModel};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Reference {
    tokenize: Vec<TokenizeCase>,
    cases: Vec<ChatCase>,
}

#[derive(Deserialize)]
struct TokenizeCase {
    text: String,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct ChatCase {
    messages: Vec<Message>,
    add_generation_prompt: bool,
    prompt: String,
    prompt_ids: Vec<u32>,
    max_tokens: usize,
    completion_ids: Vec<u32>,
}

fn reference() -> Reference {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/llamacpp/smollm2-greedy.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("reference JSON")
}

/// One thread per model: the tests run side by side, and spinning workers would crowd the cores.
fn embedded() -> LoadedModel {
    let path = load::resolve_model_path("default").expect("run ./scripts/install-model.sh first");
    let LoadedModel { model, tokenizer } = load::load(&path, &Device::Cpu, DType::F32).expect("load the embedded model");
    LoadedModel { model: model.with_threads(1), tokenizer }
}

fn greedy(max_tokens: usize) -> GenerationParams {
    GenerationParams { max_tokens, ..GenerationParams::default() }
}

#[test]
fn tokenizer_reproduces_every_reference_id_list() {
    let LoadedModel { tokenizer, .. } = embedded();
    for case in reference().tokenize {
        assert_eq!(tokenizer.encode(&case.text).unwrap(), case.ids, "{:?}", case.text);
    }
}

#[test]
fn chat_template_reproduces_every_reference_prompt() {
    let LoadedModel { tokenizer, .. } = embedded();
    let template = ChatTemplate::new(tokenizer.chat_template.as_deref().unwrap()).unwrap();
    for case in reference().cases {
        let prompt = template
            .render(&case.messages, case.add_generation_prompt, tokenizer.bos_token.as_deref(), tokenizer.eos_token.as_deref())
            .unwrap();
        assert_eq!(prompt, case.prompt);
        assert_eq!(tokenizer.encode(&prompt).unwrap(), case.prompt_ids);
    }
}

#[test]
fn greedy_decoding_agrees_with_llama_cpp_served_as_one_batch() {
    let LoadedModel { model, tokenizer } = embedded();
    let cases = reference().cases;
    let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
    let requests = cases.iter().map(|c| (c.prompt_ids.clone(), greedy(c.max_tokens))).collect();
    let generations = engine.generate_many_blocking(requests);
    let mut agreeing = 0;
    for (case, generation) in cases.iter().zip(generations) {
        let ours = generation.unwrap().completion_ids;
        let common = ours.iter().zip(&case.completion_ids).take_while(|(a, b)| a == b).count();
        let wanted = case.completion_ids.len().min(32);
        // Near-ties (logits within a few hundredths) may resolve differently later on, never early.
        assert!(common >= wanted.min(8), "differs from llama.cpp at token {common}:\n ours   {ours:?}\n theirs {:?}", case.completion_ids);
        if common >= wanted {
            agreeing += 1;
        }
    }
    assert!(agreeing >= 5, "only {agreeing} of {} cases agree on the first 32 tokens", cases.len());
}

#[test]
fn batched_and_one_at_a_time_generation_are_identical() {
    let LoadedModel { model, tokenizer } = embedded();
    let cases = reference().cases;
    let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
    let one_at_a_time: Vec<_> =
        cases.iter().map(|c| engine.generate_blocking(c.prompt_ids.clone(), greedy(24)).unwrap()).collect();
    let requests: Vec<_> = cases.iter().map(|c| (c.prompt_ids.clone(), greedy(24))).collect();
    let batched: Vec<_> = engine.generate_many_blocking(requests.clone()).into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs(&batched), outputs(&one_at_a_time));

    // Splitting the products over threads changes nothing either.
    let LoadedModel { model, tokenizer } = embedded();
    let threaded = Engine::spawn(model.with_threads(2), tokenizer, EngineConfig::default());
    let on_two_threads: Vec<_> = threaded.generate_many_blocking(requests).into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs(&on_two_threads), outputs(&one_at_a_time));
}

/// What a caller sees of generations, whatever cache they were computed with.
fn outputs(generations: &[Generation]) -> Vec<(Vec<u32>, String, FinishReason)> {
    generations.iter().map(|g| (g.completion_ids.clone(), g.completion.clone(), g.finish)).collect()
}

#[test]
fn a_next_turn_reuses_the_cache_of_the_last_and_generates_the_same() {
    let LoadedModel { model, tokenizer } = embedded();
    let template = ChatTemplate::new(tokenizer.chat_template.as_deref().unwrap()).unwrap();
    let (bos, eos) = (tokenizer.bos_token.clone(), tokenizer.eos_token.clone());
    let prompt_ids = |messages: &[Message]| {
        let text = template.render(messages, true, bos.as_deref(), eos.as_deref()).unwrap();
        tokenizer.encode(&text).unwrap()
    };
    let user = |content: &str| Message { role: "user".into(), content: content.into() };
    let mut chat = vec![user("Name three colours, one per line.")];
    let first_ids = prompt_ids(&chat);
    let LoadedModel { model: fresh_model, tokenizer: fresh_tokenizer } = embedded();
    let reusing = Engine::spawn(model, tokenizer.clone(), EngineConfig::default());
    let fresh = Engine::spawn(fresh_model, fresh_tokenizer, EngineConfig { reuse_prefixes: false, ..EngineConfig::default() });

    let first = reusing.generate_blocking(first_ids.clone(), greedy(40)).unwrap();
    assert_eq!(first.reused_prompt_tokens, 0, "nothing to reuse yet");
    chat.push(Message { role: "assistant".into(), content: first.completion.clone() });
    chat.push(user("Now three fruits."));
    let second_ids = prompt_ids(&chat);
    assert!(second_ids.starts_with(&first_ids));

    // The second turn starts from the first turn's cache: its prompt, and the reply as far as it re-tokenizes alike.
    let second = reusing.generate_blocking(second_ids.clone(), greedy(40)).unwrap();
    assert!(second.reused_prompt_tokens >= first_ids.len(), "reused {} of {}", second.reused_prompt_tokens, first_ids.len());
    assert!(second.reused_prompt_tokens < second_ids.len());
    let computed_again = fresh.generate_blocking(second_ids, greedy(40)).unwrap();
    assert_eq!(computed_again.reused_prompt_tokens, 0);
    assert_eq!(outputs(&[second]), outputs(&[computed_again]));
}

#[test]
fn a_small_kv_budget_queues_requests_and_refuses_what_never_fits() {
    let LoadedModel { model, tokenizer } = embedded();
    let cases = reference().cases;
    let longest = cases.iter().map(|c| c.prompt_ids.len()).max().unwrap() + 16;
    // Room for one sequence at a time: the rest must wait, not fail.
    let engine = Engine::spawn(model, tokenizer, EngineConfig { kv_budget_tokens: longest, max_batch: 8, ..EngineConfig::default() });
    let results = engine.generate_many_blocking(cases.iter().map(|c| (c.prompt_ids.clone(), greedy(16))).collect());
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let too_long = engine.generate_blocking(cases[0].prompt_ids.clone(), greedy(longest));
    assert_eq!(too_long, Err(EngineError::TooLong { needed: cases[0].prompt_ids.len() + longest, budget: longest }));
    assert_eq!(engine.generate_blocking(Vec::new(), greedy(4)), Err(EngineError::EmptyPrompt));
}

#[test]
fn a_generation_past_its_deadline_is_given_up_and_the_engine_goes_on() {
    let LoadedModel { model, tokenizer } = embedded();
    let case = &reference().cases[0];
    let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
    // A deadline already past: no step can answer before it is checked.
    let now = std::time::Instant::now();
    assert_eq!(engine.generate_before(case.prompt_ids.clone(), greedy(400), now), Err(EngineError::DeadlinePassed));
    // The engine goes on serving.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let next = engine.generate_before(case.prompt_ids.clone(), greedy(48), later).unwrap();
    assert_eq!(next.completion, "The capital of France is Paris.");
}

#[test]
fn generation_stops_at_stop_strings_and_max_tokens() {
    let LoadedModel { model, tokenizer } = embedded();
    let case = &reference().cases[0];
    let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
    let full = engine.generate_blocking(case.prompt_ids.clone(), greedy(48)).unwrap();
    assert_eq!(full.finish, FinishReason::EndOfTurn);
    assert_eq!(full.completion, "The capital of France is Paris.");

    let stopped = engine
        .generate_blocking(case.prompt_ids.clone(), GenerationParams { stop: vec![" is".into()], ..greedy(48) })
        .unwrap();
    assert_eq!((stopped.finish, stopped.completion.as_str()), (FinishReason::StopString, "The capital of France"));

    let short = engine.generate_blocking(case.prompt_ids.clone(), greedy(3)).unwrap();
    assert_eq!((short.finish, short.completion_ids.len()), (FinishReason::Length, 3));
}

#[test]
fn sampling_with_a_seed_is_deterministic() {
    let LoadedModel { model, tokenizer } = embedded();
    let case = &reference().cases[1];
    let engine = Engine::spawn(model, tokenizer, EngineConfig::default());
    let params = GenerationParams { temperature: 0.9, top_p: Some(0.95), seed: 7, ..greedy(24) };
    let first = engine.generate_blocking(case.prompt_ids.clone(), params.clone()).unwrap();
    let second = engine.generate_blocking(case.prompt_ids.clone(), params.clone()).unwrap();
    // The second computes only the prompt's last token: the rest is the first's cache.
    assert_eq!(second.reused_prompt_tokens, case.prompt_ids.len() - 1);
    assert_eq!(outputs(std::slice::from_ref(&first)), outputs(&[second]));
    // And it does sample: another seed, or greedy decoding, takes another path.
    let reseeded = engine.generate_blocking(case.prompt_ids.clone(), GenerationParams { seed: 8, ..params }).unwrap();
    let greedy_run = engine.generate_blocking(case.prompt_ids.clone(), greedy(24)).unwrap();
    assert_ne!(first.completion_ids, reseeded.completion_ids);
    assert_ne!(first.completion_ids, greedy_run.completion_ids);
}

#[test]
fn the_tensor_op_path_for_accelerators_generates_the_same_answers() {
    let LoadedModel { model, tokenizer } = embedded();
    let cases = reference().cases;
    let engine = Engine::spawn(model.with_tensor_ops(), tokenizer, EngineConfig::default());
    // Prompts of different lengths in one batch exercise packing, masks and grouped heads.
    let requests = cases.iter().take(3).map(|c| (c.prompt_ids.clone(), greedy(8))).collect();
    for (case, generation) in cases.iter().zip(engine.generate_many_blocking(requests)) {
        let ours = generation.unwrap().completion_ids;
        let n = ours.len().min(case.completion_ids.len()).min(5);
        assert_eq!(ours[..n], case.completion_ids[..n]);
    }
}
