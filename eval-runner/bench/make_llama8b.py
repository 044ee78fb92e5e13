"""Writes a Llama-3.1-8B-shaped model folder with random bf16 weights (for
timing only: no weights can be downloaded here) and a byte-level tokenizer.
Usage: python3 make_llama8b.py FOLDER"""

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB = 4096, 32, 32, 8, 14336, 128256
HEAD_DIM = HIDDEN // HEADS


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": HIDDEN,
        "intermediate_size": FFN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "vocab_size": VOCAB,
        "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0,
        "max_position_embeddings": 131072,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))

    gen = torch.Generator(device="cuda").manual_seed(0)

    def random(*shape):
        return (torch.randn(*shape, generator=gen, device="cuda", dtype=torch.bfloat16) * 0.02).cpu()

    shard = {"model.embed_tokens.weight": random(VOCAB, HIDDEN), "model.norm.weight": torch.ones(HIDDEN, dtype=torch.bfloat16),
             "lm_head.weight": random(VOCAB, HIDDEN)}
    save_file(shard, folder / "model-00000.safetensors")
    for layer in range(LAYERS):
        p = f"model.layers.{layer}."
        shard = {
            p + "input_layernorm.weight": torch.ones(HIDDEN, dtype=torch.bfloat16),
            p + "post_attention_layernorm.weight": torch.ones(HIDDEN, dtype=torch.bfloat16),
            p + "self_attn.q_proj.weight": random(HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.k_proj.weight": random(KV_HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.v_proj.weight": random(KV_HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.o_proj.weight": random(HIDDEN, HEADS * HEAD_DIM),
            p + "mlp.gate_proj.weight": random(FFN, HIDDEN),
            p + "mlp.up_proj.weight": random(FFN, HIDDEN),
            p + "mlp.down_proj.weight": random(HIDDEN, FFN),
        }
        save_file(shard, folder / f"model-{layer + 1:05d}.safetensors")

    # A byte-level tokenizer: 256 byte tokens and no merges, enough for timing.
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tokenizer = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(sorted(alphabet))}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text("{}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
