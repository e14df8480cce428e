"""One-off (the lead runs it after merging, then deletes it): put a-deploy's section of notebook 10
into ``solutions/10_attention.ipynb`` in place of the single markdown cell that contains
``<!-- a-deploy section goes here -->``.

    python tools_insert_10_deploy.py [path/to/10_attention.ipynb]
    python -m course_utils build --only 10 --execute
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

MARKER = "<!-- a-deploy section goes here -->"
IGNORE = {"tags": ["nbval-ignore-output"]}

CELLS: list[tuple[str, str, dict]] = [
    ("markdown", r"""## Deployment: what one more token costs

The sources say LSTMs and GRUs "remain relevant on edge devices and in small models". The
mechanism behind that claim is the memory a decoder carries from one generated token to the next:

- a **recurrent decoder** carries its state: $H$ numbers (GRU) or $2H$ (LSTM: $h$ and $c$),
  *whatever* the length of the output so far; each step costs the same;
- a **Transformer decoder** attends to every earlier token, so it keeps their keys and values, the
  **key/value cache**: $2 \times \text{layers} \times n \times d$ numbers after $n$ tokens. Each new
  token reads the whole cache: the step's attention work grows with $n$ (Pope et al. 2022).

We measure both on this CPU with three decoders of (almost) the **same number of parameters**
(`course_utils.labs.attention.deploy.deploy_models`): a 2-layer Transformer ($d = 64$, 4 heads),
and a GRU and an LSTM whose hidden sizes are chosen to match its parameter count. The weights are
untrained: the cost of a step does not depend on their values. Timing follows the course's one
way (`course_utils.lib.measure`): one thread, warm-up calls, the three models timed
*interleaved*, the median over repeats. Memory is computed exactly from tensor sizes.""", {}),
    ("code", r"""from IPython.display import Markdown, display

from course_utils.labs.attention import deploy as dep
from course_utils.labs.attention import deploy_plots as dplots
from course_utils.lib import results
from course_utils.lib.measure import cpu_model

dmodels = dep.deploy_models()
for name, info in dep.describe(dmodels).items():
    print(f"{name:12s} {info}")""", {}),
    ("markdown", r"""A short live measurement (batch 1): the time to generate token $n$, with $n - 1$
tokens already seen, at three lengths, and the bytes each decoder carries after it. Your numbers
depend on your machine and on what else runs on it; read the pattern, not the digits.""", {}),
    ("code", r"""live = dep.decode_latency(dmodels, lengths=(1, 64, 512), batch=1, repeats=15)
print(f"CPU: {cpu_model()}, 1 thread; median of 15 interleaved calls after 3 warm-up calls")
print(f"{'n':>5s} " + "".join(f"{m:>26s}" for m in dmodels))
for n in (1, 64, 512):
    cells = [next(r for r in live if r["model"] == m and r["length"] == n) for m in dmodels]
    print(f"{n:5d} " + "".join(f"{c['median_ms']:10.3f} ms {c['state_bytes']:9,d} B " for c in cells))""",
     IGNORE),
    ("markdown", r"""The committed run (`results/attention/deploy_cpu.json`, made by
`python -m course_utils sweep --suite attention-deploy --out results/attention/deploy_cpu.json`)
measures every length $n = 1, 2, 4, \dots, 2048$ at batch 1 and at batch 32 (a server answering
32 requests at once). Left: per-token latency; right: the memory carried between tokens.""", {}),
    ("code", r"""deploy_res = results.load_json("attention/deploy_cpu.json")
m = deploy_res["machine"]
print(f"measured on {m['cpu_model']} ({m['cpu_count']} cores, shared), torch {m['torch']}, "
      f"{deploy_res['threads_timed']} thread, oneDNN available: {m['mkldnn_available']}")
dplots.plot_decode(deploy_res);""", {}),
    ("markdown", r"""Read the two panels against each other. The right panel is arithmetic, so it
holds on every machine: the cache grows linearly with the output while the recurrent state stays
flat, and with these sizes the cache is already larger than the state after the first token or
two. The left panel is a measurement, and depends on the machine. At batch 1 a step of
such small models is dominated by fixed per-operation overhead, and the Transformer runs more
operations per token (two blocks of attention and MLP against one recurrent cell), so its cost
starts from a higher floor; at batch 32 every step reads the whole cache of every sequence, so
its cost grows with $n$ once that cache no longer fits in the CPU's caches. Whether and where the
curves cross is printed below from the committed data: another CPU may move that point.""", {}),
    ("code", r"""for claim, verdict, regime in deploy_res["ledger_rows"][:2]:
    print(f"{claim}:\n  {verdict}\n")""", IGNORE),
    ("markdown", r"""### Training: sequential in time vs parallel over time

Deployment is one side; training is the other, and there the Transformer's selling point is
that it processes all positions of a sequence at once, while a recurrent layer must step through
time. The committed run also times forward + backward of each model, per sequence, for
$T = 16 \dots 1024$ (batch 8; the LSTM with oneDNN on, the default, and off).""", {}),
    ("code", r"""dplots.plot_train(deploy_res)
claim, verdict, regime = deploy_res["ledger_rows"][2]
print(f"{claim}:\n  {verdict}")""", IGNORE),
    ("markdown", r"""On one CPU thread "parallel over time" buys less than on a GPU: there is no idle
hardware for the parallel positions to fill, and the Transformer's attention costs grow with
$T^2$. The oneDNN LSTM (a fused kernel) and the op-by-op GRU differ a lot, so the backend matters
as much as the architecture; the ledger rows below say which is faster per sequence, and from
which $T$, in the committed run.""", {}),
    ("markdown", r"""## Memory that copies

Notebook 07's baselines held a surprise: **lzma**, given the training text, compresses the
validation text to far fewer bits per character than the LSTM trained for 1,500 updates
(`results/charlm_long/*.json`). lzma is LZ77 with a dictionary of megabytes: it can *copy* any
earlier passage. An LSTM must squeeze everything it remembers into its fixed-size state.
Attention, in contrast, can look back at any character inside its window, a copy mechanism
learned by gradient descent.

To see who gains where, we split the validation characters into classes: **new text**, and
characters inside a passage of at least 20 characters that occurred before (in the training text
or earlier in the validation text), as a **repeat within the window** (its latest earlier
occurrence starts at most 256 characters back, where a Transformer with a 256-character context
can see it) or a **repeat from further back**.""", {}),
    ("code", r"""import numpy as np

from course_utils.labs.attention import copying
from course_utils.lib.text import load_corpus

corpus = load_corpus()
labels = copying.repeat_classes(corpus.train, corpus.valid, min_len=20, window=256)
for i, name in enumerate(copying.CLASS_NAMES):
    print(f"{name:26s} {np.mean(labels == i):6.1%} of {len(labels):,} validation characters")
start = int(np.flatnonzero(labels == copying.NEAR)[0]) - 60
print("\nA passage, repeats in [brackets]:\n")
print("".join(("[" + c + "]") if labels[start + k] != copying.NEW else c
              for k, c in enumerate(corpus.valid[start:start + 240])).replace("][", ""))""", {}),
    ("markdown", r"""The committed run (`results/attention/copy_cpu.json`, made by
`python -m course_utils sweep --suite attention-copy --out results/attention/copy_cpu.json`,
one CPU core) trains 07's LSTM (embedding 64, LSTM 256, the learning rate and schedule of 07's best
long run) and a causal Transformer of about the same parameter count (3 layers, a 256-character
window, its learning rate the best on validation of a small grid) for the same 1,500 updates of
6,400 predicted characters each, one seed each, then scores every validation character: the LSTM
reads the validation text as one stream, the Transformer in overlapping windows, so that every
character has at least 128 characters of context. lzma has no per-character cost, so its cost
per class is estimated by compressing prefixes: train + validation up to each boundary between
classes, the difference of compressed sizes being the cost of the run in between.""", {}),
    ("code", r"""copy_res = results.load_json("attention/copy_cpu.json")
for name, mres in copy_res["models"].items():
    print(f"{name:12s} {mres['params']:,} parameters, lr {mres['lr']:g}, "
          f"{mres['bits_per_char']:.3f} bits/char on the validation text")
print(f"{'lzma':12s} given the training text: {copy_res['lzma']['total']:.3f} bits/char")
print("Transformer learning rates tried:", {lr: round(g["bits_per_char"], 3)
                                            for lr, g in copy_res["transformer_lr_grid"].items()})
print("Seconds (shared CPU):", copy_res.get("seconds_note", "not recorded"))
dplots.plot_copy(copy_res);""", {}),
    ("markdown", r"""Reading the committed run (`results/attention/copy_cpu.json`; one seed per model,
so read directions, not decimals): lzma's whole advantage sits in the **repeated passages**; on
new text it is no better than the networks. Within 1,500 updates neither network copies the way
lzma does. The Transformer's attention did not make the repeats inside its window clearly cheaper
than the LSTM's (the interval of the gap includes zero), although the Transformer is better on
new text; on passages repeated from further back, beyond its window and mostly from the
training text, the LSTM does better: what it recalls there comes from its weights, not from its
state. So the sentence "attention copies what a fixed-size state forgets" is **not shown** at
this size and budget. It describes what attention *can* represent; learning to copy (the
"induction heads" of Olsson et al. 2022) takes training that this budget may not give. Both
networks saw the training text about 24 times (1,500 updates x 6,400 characters); a longer run
would tell whether the Transformer's gain on repeats appears later. Compare also the training
seconds printed above: the budget was equal in updates, not in time, and on this CPU the
Transformer's updates were the slower ones.""", {}),
    ("markdown", r"""The ledger of notebook 08 gains these rows, generated from the two committed
files: each verdict is read from the data, and its regime says what it was measured in.
Latencies are measurements on one machine, not seeded trials; the copy experiment has one seed
per model, and its intervals are over validation text, not over seeds.""", {}),
    ("code", r"""rows = deploy_res["ledger_rows"] + copy_res["ledger_rows"]
display(Markdown(dplots.ledger_markdown(rows)))""", {}),
]


def build_cells() -> list:
    out = []
    for kind, source, meta in CELLS:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(source)
        cell.metadata.update({k: list(v) for k, v in meta.items()})
        out.append(cell)
    return out


def insert(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    hits = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and MARKER in c.source]
    if len(hits) != 1:
        raise SystemExit(f"{path}: expected exactly one markdown cell with {MARKER!r}, "
                         f"found {len(hits)}")
    i = hits[0]
    nb.cells[i: i + 1] = build_cells()
    nbformat.write(nb, path)
    print(f"{path}: replaced cell {i} with {len(CELLS)} cells")
    return 0


if __name__ == "__main__":
    sys.exit(insert(Path(sys.argv[1] if len(sys.argv) > 1 else "solutions/10_attention.ipynb")))
