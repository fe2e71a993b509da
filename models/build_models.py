#!/usr/bin/python3
"""Builds the small decoder-only models that the tests and the embedded default run.

Every model is written in the Hugging Face Optimum decoder layout, exactly what
`optimum-cli export onnx --task text-generation-with-past` produces for a real model:

    model.onnx             inputs  input_ids, attention_mask, [position_ids], past_key_values.N.key/value
                           outputs logits, present.N.key/value
    config.json            architecture (layers, heads, KV heads, context length, dtype)
    tokenizer.json         a Hugging Face `tokenizers` file
    tokenizer_config.json  special tokens, whether BOS is added, and (Llama style) the chat template
    generation_config.json BOS / EOS ids

Nothing here is downloaded: the tokenizers are trained by this script (a byte-pair-encoding trainer of a
few dozen lines) and the tiny models are trained for a few hundred steps on the license texts every Debian
system ships in /usr/share/common-licenses, so that their output is English-looking instead of noise.
The benchmark model keeps random weights: it exists to make the compute realistic, not the text.

The build is deterministic: fixed seeds, one thread, sorted tie-breaks. Run it with Debian's Python
(`apt-get install python3-torch python3-onnx`; /usr/bin/python3, not a pyenv shim):

    /usr/bin/python3 models/build_models.py                   # the committed tiny models under models/
    /usr/bin/python3 models/build_models.py --preset bench-llama --out target/models
"""
import argparse
import collections
import hashlib
import json
import math
import os
import re
import shutil
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_FILES = ["GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic"]
CORPUS_DIR = "/usr/share/common-licenses"
VOCAB_SIZE = 1024
OPSET = 14

# ---------------------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------------------


def load_corpus():
    texts = []
    for name in CORPUS_FILES:
        with open(os.path.join(CORPUS_DIR, name), encoding="utf-8") as f:
            # Collapse the layout whitespace of license files: the models should learn prose, not indentation.
            paragraphs = re.split(r"\n\s*\n", f.read())
            texts.extend(" ".join(p.split()) for p in paragraphs if p.strip())
    text = "\n".join(texts)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Byte-pair-encoding training (shared by both tokenizer styles)
# ---------------------------------------------------------------------------------------------------------


def train_bpe(word_counts, base_symbols, budget):
    """Classic BPE: repeatedly merge the most frequent adjacent pair. Ties break on the pair itself."""
    words = {tuple(w): c for w, c in word_counts.items()}
    merges = []
    for _ in range(budget):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = best[0] + best[1]
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


# GPT-2's pre-tokenization regex, with ASCII classes standing in for \p{L} / \p{N} (training statistics only;
# at run time the tokenizers library applies the real expression).
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def added_token(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def byte_level_tokenizer(text):
    """A GPT-2-style tokenizer: byte-level BPE, no BOS, `<|endoftext|>` as BOS/EOS."""
    b2u = bytes_to_unicode()
    counts = collections.Counter(GPT2_SPLIT.findall(text))
    word_counts = {tuple(b2u[b] for b in w.encode("utf-8")): c for w, c in counts.items()}
    base = [b2u[b] for b in range(256)]
    merges = train_bpe(word_counts, base, VOCAB_SIZE - 256 - 1)
    vocab = {s: i for i, s in enumerate(base)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    eos_id = len(vocab)
    eos = "<|endoftext|>"
    vocab[eos] = eos_id
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(eos_id, eos)],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level, trim_offsets=False),
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }
    tokenizer_config = {"tokenizer_class": "GPT2Tokenizer", "add_bos_token": False, "add_eos_token": False,
                        "bos_token": eos, "eos_token": eos, "unk_token": eos, "model_max_length": 256,
                        "clean_up_tokenization_spaces": False}
    return tokenizer, tokenizer_config, {"bos_token_id": eos_id, "eos_token_id": eos_id}


# Llama 2's chat format ([INST] ... [/INST], the system prompt in <<SYS>> inside the first instruction), with one BOS
# at the start: what a chat request renders for the Llama-style tiny models. The tiny models never saw it in
# training; it is there so that the chat path runs end to end on them.
LLAMA2_STYLE_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages and messages[0]['role'] == 'system' %}"
    "{% set system = '<<SYS>>\n' + messages[0]['content'] | trim + '\n<</SYS>>\n\n' %}"
    "{% set messages = messages[1:] %}"
    "{% else %}{% set system = '' %}{% endif %}"
    "{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + (system if loop.first else '') + message['content'] | trim + ' [/INST]' }}"
    "{% else %}"
    "{{ ' ' + message['content'] | trim + ' ' + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
)


def sentencepiece_style_tokenizer(text):
    """A Llama-style tokenizer: '▁' for spaces, byte fallback, and a post-processor that adds BOS `<s>` itself."""
    sp = "\u2581"
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    normalized = sp + text.replace(" ", sp).replace("\n", sp)
    # Train on words that start at each '▁', as SentencePiece does, so no merge spans two words.
    counts = collections.Counter(re.findall(sp + "[^" + sp + "]*", normalized))
    chars = sorted({ch for w in counts for ch in w})
    word_counts = {tuple(w): c for w, c in counts.items()}
    vocab = {s: i for i, s in enumerate(specials + byte_tokens + chars)}
    merges = train_bpe(word_counts, chars, VOCAB_SIZE - len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(i, s) for i, s in enumerate(specials)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": sp},
            {"type": "Replace", "pattern": {"String": " "}, "content": sp}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                                    bos, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": sp}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }
    tokenizer_config = {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
                        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "model_max_length": 256,
                        "clean_up_tokenization_spaces": False, "legacy": True,
                        "chat_template": LLAMA2_STYLE_CHAT_TEMPLATE}
    return tokenizer, tokenizer_config, {"bos_token_id": 1, "eos_token_id": 2}


def encode_for_training(tokenizer, text):
    """Greedy re-implementation of BPE encoding, good enough to produce training ids (not used at run time)."""
    model = tokenizer["model"]
    vocab = model["vocab"]
    ranks = {tuple(m.split(" ")): i for i, m in enumerate(model["merges"])}

    def bpe(symbols):
        symbols = list(symbols)
        while len(symbols) > 1:
            best = min(((ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))))
            if best[0] == math.inf:
                break
            i = best[1]
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        return symbols

    ids = []
    if tokenizer["pre_tokenizer"] is not None:  # byte level
        b2u = bytes_to_unicode()
        for w in GPT2_SPLIT.findall(text):
            ids.extend(vocab[s] for s in bpe(b2u[b] for b in w.encode("utf-8")))
    else:
        sp = "\u2581"
        for w in re.findall(sp + "[^" + sp + "]*", sp + text.replace(" ", sp).replace("\n", sp)):
            for s in bpe(w):
                if s in vocab:
                    ids.append(vocab[s])
                else:
                    ids.extend(vocab["<0x%02X>" % b] for b in s.encode("utf-8"))
    return ids


# ---------------------------------------------------------------------------------------------------------
# Models: written out by hand so the export has exactly the Optimum interface
# ---------------------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x, groups):
    """[B, kv_heads, T, D] -> [B, kv_heads * groups, T, D]. Written as expand + reshape, as Hugging Face does:
    torch 1.13 exports repeat_interleave with shapes that do not generalise to other batch sizes."""
    b, h, t, d = x.shape
    return x[:, :, None, :, :].expand(b, h, groups, t, d).reshape(b, h * groups, t, d)


def extend_cache(past_k, past_v, k, v):
    """The past length, and the keys and values with this step's appended: what a block attends over and returns."""
    return past_k.shape[2], torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)


def attend(q, k, v, attention_mask, past_len):
    """q [B,H,S,D], k/v [B,H,T,D] with T = past_len + S; attention_mask [B,T] (1 = real token)."""
    s, t = q.shape[2], k.shape[2]
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    query_pos = torch.arange(s).unsqueeze(1) + past_len
    key_pos = torch.arange(t).unsqueeze(0)
    causal = (key_pos <= query_pos).unsqueeze(0).unsqueeze(0)
    allowed = causal & attention_mask.bool()[:, None, None, :]
    scores = torch.where(allowed, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class LlamaBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kvh, self.d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        hidden = c["hidden_size"]
        self.input_layernorm = RMSNorm(hidden, c["rms_norm_eps"])
        self.q_proj = nn.Linear(hidden, self.h * self.d, bias=False)
        self.k_proj = nn.Linear(hidden, self.kvh * self.d, bias=False)
        self.v_proj = nn.Linear(hidden, self.kvh * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, hidden, bias=False)
        self.post_attention_layernorm = RMSNorm(hidden, c["rms_norm_eps"])
        self.gate_proj = nn.Linear(hidden, c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(hidden, c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], hidden, bias=False)

    def forward(self, x, cos, sin, attention_mask, past_k, past_v):
        b, s, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, s, self.h, self.d).transpose(1, 2)
        k = self.k_proj(h).view(b, s, self.kvh, self.d).transpose(1, 2)
        v = self.v_proj(h).view(b, s, self.kvh, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        past_len, k, v = extend_cache(past_k, past_v, k, v)
        groups = self.h // self.kvh  # grouped-query attention: each KV head serves `groups` query heads
        kk, vv = repeat_kv(k, groups), repeat_kv(v, groups)
        a = attend(q, kk, vv, attention_mask, past_len).transpose(1, 2).reshape(b, s, self.h * self.d)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class Decoder(nn.Module):
    """What both models share: their config, and the cache passed through their blocks layer by layer. The blocks keep
    their Hugging Face names (Llama's `layers`, GPT-2's `h`), as the rest of each model does."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def blocks(self):
        return self.layers if hasattr(self, "layers") else self.h

    def kv_shape(self):
        """(KV heads, head size) of the cache."""
        c = self.c
        if c["model_type"] == "llama":
            return c["num_key_value_heads"], c["head_dim"]
        return c["n_head"], c["n_embd"] // c["n_head"]

    def empty_cache(self, batch):
        kv_heads, head_dim = self.kv_shape()
        return [torch.zeros(batch, kv_heads, 0, head_dim)] * (2 * len(self.blocks()))

    def through_blocks(self, x, past, *args):
        """x through every block, each given `args` and its layer's past keys and values; also the present cache
        (key, value per layer), in the export's order."""
        present = []
        for i, block in enumerate(self.blocks()):
            x, k, v = block(x, *args, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return x, present


class TinyLlama(Decoder):
    def __init__(self, c):
        super().__init__(c)
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(LlamaBlock(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        d = c["head_dim"]
        self.register_buffer("inv_freq", 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2).float() / d)), persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, past):
        freqs = position_ids.float().unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)
        x, present = self.through_blocks(self.embed_tokens(input_ids), past, cos, sin, attention_mask)
        return self.lm_head(self.norm(x)), present


class Gpt2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.d = c["n_head"], c["n_embd"] // c["n_head"]
        e = c["n_embd"]
        self.ln_1 = nn.LayerNorm(e, eps=c["layer_norm_epsilon"])
        self.c_attn = nn.Linear(e, 3 * e)
        self.c_proj = nn.Linear(e, e)
        self.ln_2 = nn.LayerNorm(e, eps=c["layer_norm_epsilon"])
        self.c_fc = nn.Linear(e, 4 * e)
        self.mlp_proj = nn.Linear(4 * e, e)

    def forward(self, x, attention_mask, past_k, past_v):
        b, s, e = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(e, dim=2)
        q, k, v = (t.view(b, s, self.h, self.d).transpose(1, 2) for t in (q, k, v))
        past_len, k, v = extend_cache(past_k, past_v, k, v)
        a = attend(q, k, v, attention_mask, past_len).transpose(1, 2).reshape(b, s, e)
        x = x + self.c_proj(a)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class TinyGpt2(Decoder):
    def __init__(self, c):
        super().__init__(c)
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList(Gpt2Block(c) for _ in range(c["n_layer"]))
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        # GPT-2's initialisation: with tied embeddings, unit-variance vectors would start from huge logits.
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)

    def forward(self, input_ids, attention_mask, position_ids, past):
        x, present = self.through_blocks(self.wte(input_ids) + self.wpe(position_ids), past, attention_mask)
        return F.linear(self.ln_f(x), self.wte.weight), present  # tied embeddings, as in GPT-2


class OptimumInterface(nn.Module):
    """Adapts a model to the exact input/output list of an Optimum export.

    Without a `position_ids` input the model derives positions from the cache length, as older GPT-2
    exports do. With `io_dtype` float16 the cache and logits cross the graph boundary in half precision
    (the interface of an fp16 export) while the arithmetic inside stays in float32.
    """

    def __init__(self, model, with_position_ids, io_dtype):
        super().__init__()
        self.model, self.with_position_ids, self.io_dtype = model, with_position_ids, io_dtype

    def forward(self, input_ids, attention_mask, *rest):
        if self.with_position_ids:
            position_ids, past = rest[0], rest[1:]
        else:
            past = rest
            past_len = past[0].shape[2]
            position_ids = (torch.arange(input_ids.shape[1]) + past_len).unsqueeze(0).expand(input_ids.shape[0], -1)
        past = [p.float() for p in past]
        logits, present = self.model(input_ids, attention_mask, position_ids, past)
        return (logits.to(self.io_dtype), *[p.to(self.io_dtype) for p in present])


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------

PRESETS = {
    # The default model: Llama architecture (grouped-query attention, RoPE, SwiGLU), BOS added by its tokenizer.
    "tiny-llama": dict(arch="llama", tokenizer="sentencepiece", position_ids=True, io_dtype="float32",
                       hidden=64, layers=2, heads=4, kv_heads=2, intermediate=176, train_steps=600),
    # GPT-2 architecture exported without position_ids, as older Optimum exports of GPT-2 are.
    "tiny-gpt2": dict(arch="gpt2", tokenizer="byte_level", position_ids=False, io_dtype="float32",
                      hidden=64, layers=2, heads=4, kv_heads=4, intermediate=256, train_steps=600),
    # The same trained Llama weights without position_ids: positions come from the cache length.
    "tiny-llama-nopos": dict(same_weights_as="tiny-llama", position_ids=False, io_dtype="float32"),
    # The same trained GPT-2 weights with position_ids and a float16 cache and logits.
    "tiny-gpt2-fp16": dict(same_weights_as="tiny-gpt2", position_ids=True, io_dtype="float16"),
    # For the benchmark: 77M parameters (308 MB in float32), big enough that a decode step of one sequence is
    # bound by reading the weights, as on a GPU, and matrix products rather than per-step overhead dominate.
    # Random weights: the benchmark measures speed, not text.
    "bench-llama": dict(arch="llama", tokenizer="sentencepiece", position_ids=True, io_dtype="float32",
                        hidden=768, layers=12, heads=12, kv_heads=4, intermediate=2048, train_steps=0),
}
COMMITTED = ["tiny-llama", "tiny-gpt2", "tiny-llama-nopos", "tiny-gpt2-fp16"]
CONTEXT = 256


def hf_config(p, tok_ids):
    common = {"vocab_size": VOCAB_SIZE, "bos_token_id": tok_ids["bos_token_id"],
              "eos_token_id": tok_ids["eos_token_id"], "torch_dtype": p["io_dtype"], "use_cache": True}
    if p["arch"] == "llama":
        return dict(common, architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=p["hidden"],
                    num_hidden_layers=p["layers"], num_attention_heads=p["heads"],
                    num_key_value_heads=p["kv_heads"], head_dim=p["hidden"] // p["heads"],
                    intermediate_size=p["intermediate"], max_position_embeddings=CONTEXT, rms_norm_eps=1e-5,
                    rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False)
    return dict(common, architectures=["GPT2LMHeadModel"], model_type="gpt2", n_embd=p["hidden"],
                n_layer=p["layers"], n_head=p["heads"], n_positions=CONTEXT, n_ctx=CONTEXT,
                layer_norm_epsilon=1e-5, activation_function="gelu_new", tie_word_embeddings=True)


def make_model(c):
    return TinyLlama(c) if c["model_type"] == "llama" else TinyGpt2(c)


def train(model, ids, steps):
    if steps == 0:
        return
    data = torch.tensor(ids, dtype=torch.long)
    seq, batch = 64, 16
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(1234)
    for step in range(steps):
        starts = torch.randint(0, len(data) - seq - 1, (batch,), generator=gen)
        x = torch.stack([data[s:s + seq] for s in starts])
        y = torch.stack([data[s + 1:s + seq + 1] for s in starts])
        positions = torch.arange(seq).unsqueeze(0).expand(batch, -1)
        logits, _ = model(x, torch.ones(batch, seq, dtype=torch.long), positions, model.empty_cache(batch))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print("  step %4d loss %.3f" % (step, loss.item()), flush=True)


def export(model, with_position_ids, io_dtype, path):
    model.eval()
    kv_heads, head_dim = model.kv_shape()
    dtype = getattr(torch, io_dtype)
    wrapper = OptimumInterface(model, with_position_ids, dtype)
    b, s, p = 2, 3, 4
    args = [torch.randint(0, VOCAB_SIZE, (b, s)), torch.ones(b, p + s, dtype=torch.long)]
    names = ["input_ids", "attention_mask"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"}}
    if with_position_ids:
        args.append(torch.arange(p, p + s).unsqueeze(0).expand(b, -1).contiguous())
        names.append("position_ids")
        axes["position_ids"] = {0: "batch_size", 1: "sequence_length"}
    outputs = ["logits"]
    axes["logits"] = {0: "batch_size", 1: "sequence_length"}
    for i in range(len(model.blocks())):
        for kind in ("key", "value"):
            args.append(torch.zeros(b, kv_heads, p, head_dim, dtype=dtype))
            names.append("past_key_values.%d.%s" % (i, kind))
            axes[names[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            outputs.append("present.%d.%s" % (i, kind))
            axes[outputs[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(wrapper, tuple(args), path, input_names=names, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


def check_cache_consistency(model, ids):
    """The cached decode must give the logits of a full recomputation; catches export-shaped bugs early."""
    model.eval()
    x = torch.tensor([ids])
    with torch.no_grad():
        empty = model.empty_cache(1)
        full, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), empty)
        _, past = model(x[:, :-1], torch.ones_like(x[:, :-1]), torch.arange(len(ids) - 1).unsqueeze(0), empty)
        step, _ = model(x[:, -1:], torch.ones_like(x), torch.tensor([[len(ids) - 1]]), past)
    diff = (full[0, -1] - step[0, -1]).abs().max().item()
    assert diff < 1e-4, "cached and uncached logits differ by %g" % diff


def build(names, out_root):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    corpus, corpus_sha = load_corpus()
    trained = {}
    tokenizers = {}
    for name in sorted(names, key=lambda n: "same_weights_as" in PRESETS[n]):
        p = dict(PRESETS[name])
        if "same_weights_as" in p:
            base = p.pop("same_weights_as")
            if base not in trained:
                raise SystemExit("%s reuses the weights of %s: build both together" % (name, base))
            p = dict(PRESETS[base], **p)
            model, (tok, tok_config, tok_ids) = trained[base], tokenizers[base]
        else:
            print("%s: training the %s tokenizer" % (name, p["tokenizer"]), flush=True)
            tok, tok_config, tok_ids = (sentencepiece_style_tokenizer if p["tokenizer"] == "sentencepiece"
                                        else byte_level_tokenizer)(corpus)
            torch.manual_seed(0)
            model = make_model(hf_config(dict(p, io_dtype="float32"), tok_ids))
            # Each paragraph ends with the end-of-sequence token, so the model learns to stop.
            ids = []
            for paragraph in corpus.split("\n"):
                ids += encode_for_training(tok, paragraph) + [tok_ids["eos_token_id"]]
            print("%s: %d parameters, %d training tokens" % (name, sum(t.numel() for t in model.parameters()), len(ids)))
            train(model, ids, p["train_steps"])
            check_cache_consistency(model, ids[:40])
            trained[name], tokenizers[name] = model, (tok, tok_config, tok_ids)
        out = os.path.join(out_root, name)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        config = hf_config(p, tok_ids)
        export(model, p["position_ids"], p["io_dtype"], os.path.join(out, "model.onnx"))
        write_json(os.path.join(out, "config.json"), config)
        write_json(os.path.join(out, "tokenizer.json"), tok)
        write_json(os.path.join(out, "tokenizer_config.json"), dict(tok_config, model_max_length=CONTEXT))
        write_json(os.path.join(out, "generation_config.json"),
                   dict(tok_ids, pad_token_id=tok_ids["eos_token_id"], do_sample=False))
        with open(os.path.join(out, "BUILD.txt"), "w") as f:
            f.write("Built by models/build_models.py, preset %s.\n" % name)
            f.write("Weights: %s.\n" % ("trained %d steps on /usr/share/common-licenses/{%s} (sha256 %s)"
                                         % (p["train_steps"], ",".join(CORPUS_FILES), corpus_sha)
                                         if p["train_steps"] else "random (seed 0)"))
            f.write("torch %s, onnx opset %d.\n" % (torch.__version__, OPSET))
        print("%s: wrote %s (%.2f MB)" % (name, out, os.path.getsize(os.path.join(out, "model.onnx")) / 1e6), flush=True)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", action="append", choices=sorted(PRESETS),
                    help="model(s) to build (default: the committed tiny models)")
    ap.add_argument("--out", default=HERE, help="output folder (one sub-folder per model)")
    a = ap.parse_args()
    build(a.preset or COMMITTED, a.out)
