"""General-purpose compressors as language-model baselines, in bits per character.

A compressor is a language model in disguise: a file compressed to n bytes costs 8n / N bits per
character of its N characters. Two measures (Mahoney's "Large Text Compression Benchmark" uses
the first; the second is the fair one beside a model trained on the training text):

* **alone**: the validation text compressed by itself;
* **given the training text**: compressed size of train + valid minus that of train, i.e. the
  extra bits the validation text costs once the compressor has seen the training text.

zlib (DEFLATE: LZ77 with a 32 KB window + Huffman codes) can only copy from the last 32 KB;
bz2 (Burrows-Wheeler in blocks of up to 900 KB); lzma (LZ77 with a dictionary of megabytes and
context-modelled range coding) can copy any earlier passage of the whole training text.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import Callable

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": lambda b: zlib.compress(b, 9),
    "bz2": lambda b: bz2.compress(b, 9),
    "lzma": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
}


def compressed_bits(train: str, valid: str) -> dict[str, dict[str, float]]:
    """``{name: {"alone": bits/char, "given_train": bits/char}}`` on the characters of
    ``valid`` (UTF-8 bytes are compressed; the cost is divided by the number of characters)."""
    if not valid:
        raise ValueError("empty validation text")
    tb, vb = train.encode("utf-8"), valid.encode("utf-8")
    out = {}
    for name, compress in COMPRESSORS.items():
        alone = 8 * len(compress(vb)) / len(valid)
        given = 8 * (len(compress(tb + vb)) - len(compress(tb))) / len(valid)
        out[name] = {"alone": alone, "given_train": given}
    return out
