//! Bad model files: each gives one clear error line, never a panic.

use std::path::Path;
use std::process::Command;

fn eval_runner(model: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_eval-runner"))
        .args(["tokenize", "--model", model.to_str().unwrap(), "hello"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn assert_one_line(stderr: &str, expected: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
}

fn embedded_model() -> std::path::PathBuf {
    eval_runner::load::resolve_model_path("default").expect("run ./scripts/install-model.sh first")
}

#[test]
fn a_truncated_gguf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.gguf");
    let bytes = std::fs::read(embedded_model()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let (ok, stderr) = eval_runner(&truncated);
    assert!(!ok);
    assert_one_line(&stderr, &format!("error: {}: truncated: the tensors need {} bytes, the file has {}", truncated.display(), bytes.len(), bytes.len() / 2));
}

#[test]
fn a_gguf_cut_inside_its_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    let bytes = std::fs::read(embedded_model()).unwrap();
    std::fs::write(&cut, &bytes[..4096]).unwrap();
    let (ok, stderr) = eval_runner(&cut);
    assert!(!ok);
    assert_one_line(&stderr, "unreadable GGUF header (truncated or corrupt?)");
}

#[test]
fn a_file_with_the_wrong_magic_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("model.gguf");
    std::fs::write(&fake, b"PK\x03\x04 not a model").unwrap();
    let (ok, stderr) = eval_runner(&fake);
    assert!(!ok);
    assert_one_line(&stderr, "not a GGUF file (wrong magic number)");
}

#[test]
fn a_folder_without_config_json_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.safetensors"), b"").unwrap();
    let (ok, stderr) = eval_runner(dir.path());
    assert!(!ok);
    assert_one_line(&stderr, "no config.json: a model folder needs config.json, tokenizer.json and model*.safetensors");
}

#[test]
fn a_missing_path_is_refused() {
    let (ok, stderr) = eval_runner(Path::new("/nonexistent/model.gguf"));
    assert!(!ok);
    assert_one_line(&stderr, "error: /nonexistent/model.gguf: no such file or folder");
}

#[test]
fn a_malformed_chat_file_and_zero_threads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let chat = dir.path().join("chat.json");
    std::fs::write(&chat, r#"{"role": "user"}"#).unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_eval-runner")).args(args).output().unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let model = embedded_model();
    let model = model.to_str().unwrap();
    let (ok, stderr) = run(&["generate", "--model", model, "--chat", chat.to_str().unwrap()]);
    assert!(!ok);
    assert_one_line(&stderr, "expected a JSON list of {\"role\", \"content\"} messages");
    std::fs::write(&chat, "[]").unwrap();
    let (ok, stderr) = run(&["generate", "--model", model, "--chat", chat.to_str().unwrap()]);
    assert!(!ok);
    assert_one_line(&stderr, "chat.json: the chat has no messages");

    let (ok, stderr) = run(&["tokenize", "--model", model, "--threads", "0", "hi"]);
    assert!(!ok);
    assert_one_line(&stderr, "error: --threads must be at least 1");
}
