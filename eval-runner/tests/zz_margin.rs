use candle_core::{DType, Device, D};
use eval_runner::engine::model::Segment;
#[test]
fn margins() {
    let d: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("../../shared/reference/llamacpp/smollm2-greedy.json").unwrap()).unwrap();
    let path = eval_runner::load::resolve_model_path("default").unwrap();
    let m = eval_runner::load::load(&path, &Device::Cpu, DType::F32).unwrap();
    for ci in [2usize, 3] {
    let c = &d["cases"][ci];
    let prompt: Vec<u32> = serde_json::from_value(c["prompt_ids"].clone()).unwrap();
    let comp: Vec<u32> = serde_json::from_value(c["completion_ids"].clone()).unwrap();
    let mut cache = m.model.new_cache();
    let mut toks = prompt.clone();
    for (i, &t) in comp.iter().enumerate().take(26) {
        let logits = m.model.forward(&mut [Segment { tokens: &toks, cache: &mut cache }]).unwrap().squeeze(0).unwrap();
        let v: Vec<f32> = logits.to_vec1().unwrap();
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|a, b| v[*b].partial_cmp(&v[*a]).unwrap());
        println!("case {ci} step {i}: ref {t} ({:.4}) top {} ({:.4}) second {} ({:.4})", v[t as usize], idx[0], v[idx[0]], idx[1], v[idx[1]]);
        toks = vec![t];
    }
    }
    let _ = D::Minus1;
}
