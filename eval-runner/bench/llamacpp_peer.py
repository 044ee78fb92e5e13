"""Prefill and decode throughput of llama.cpp (llama-cpp-python) on a GGUF file,
measured the way `eval-runner bench` measures: one prompt of N tokens, then M
single-token decode steps. Prints one JSON object."""

import argparse
import json
import time

from llama_cpp import Llama


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt-len", type=int, default=128)
    parser.add_argument("--gen-len", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    llm = Llama(
        model_path=args.model,
        n_ctx=args.prompt_len + args.gen_len + 16,
        n_batch=max(512, args.prompt_len),
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    text = "The players take turns describing a word without saying it, and the guesser tries to name it. "
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    prompt = (ids * (args.prompt_len // len(ids) + 1))[: args.prompt_len]

    llm.reset()
    llm.eval(prompt[:8])  # warm-up, untimed
    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(args.gen_len):
        llm.eval([prompt[-1]])
    decode = time.perf_counter() - started
    print(json.dumps({
        "runtime": "llama.cpp (llama-cpp-python)",
        "threads": args.threads,
        "prompt_len": args.prompt_len,
        "gen_len": args.gen_len,
        "prefill_tokens_per_s": args.prompt_len / prefill,
        "decode_tokens_per_s": args.gen_len / decode,
    }))


if __name__ == "__main__":
    main()
