"""One place for counts: gate blocks, parameters and FLOPs of RNN / LSTM / GRU layers.

A layer computes G "gate blocks" of H rows each from the input and from the state: G = 1 for
the tanh RNN, 4 for the LSTM (3 gates i, f, o + the candidate g) and 3 for the GRU (2 gates r,
z + the candidate n). Every block has ``W_ih`` (H, I), ``W_hh`` (H, H) and, in PyTorch, two
bias vectors ``b_ih`` and ``b_hh`` (H,), so one layer and direction holds G·H·(I + H + 2)
numbers. Layers after the first see ``directions · H`` inputs.

FLOPs (multiply and add counted separately): per time step, the two GEMMs cost
2·G·B·H·(I + H); the element-wise work per hidden unit is counted operation by operation in
:data:`ELEMENTWISE_PER_UNIT`. Training (forward + backward) is counted as 3x the forward
GEMMs: backward runs two GEMMs per forward GEMM.

No torch at import. References: torch.nn.RNN / LSTM / GRU documentation (parameter shapes);
Appleyard, Kociský & Blunsom (2016), arXiv:1604.01946 (GEMM cost of recurrent layers).
"""

from __future__ import annotations

KINDS = ("rnn", "lstm", "gru")
GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}
# element-wise operations per hidden unit and step (each add, multiply, sigmoid, tanh = 1):
#   RNN  : 2 bias adds + 1 add + tanh                                                    = 4
#   LSTM : 4 blocks x (2 bias adds + 1 add) + 3 sigmoid + 1 tanh (g)
#          + c = f*c + i*g (3) + tanh(c) + o*tanh(c)                                    = 21
#   GRU  : 3 x 2 bias adds + 2 adds (r, z) + 2 sigmoid + r*hn + add + tanh (n)
#          + (1 - z)*n + z*h (4)                                                         = 17
ELEMENTWISE_PER_UNIT = {"rnn": 4, "lstm": 21, "gru": 17}
TRAINING_FLOP_FACTOR = 3  # forward + backward = 3 x forward GEMMs


def _kind(kind: str) -> str:
    """Normalise "LSTM" / "lstm" / "nn.LSTM"; raise on anything else."""
    k = kind.lower().removeprefix("nn.")
    if k not in GATE_BLOCKS:
        raise ValueError(f"kind must be one of {KINDS} (any case), got {kind!r}")
    return k


def gate_blocks(kind: str) -> int:
    """G: 1 (RNN), 4 (LSTM: 3 gates + candidate), 3 (GRU: 2 gates + candidate)."""
    return GATE_BLOCKS[_kind(kind)]


def layer_params(kind: str, input_size: int, hidden: int, bias: bool = True) -> int:
    """Parameters of one layer and one direction: G·H·(I + H) weights + 2·G·H biases."""
    G = gate_blocks(kind)
    return G * hidden * (input_size + hidden + (2 if bias else 0))


def param_count(kind: str, input_size: int, hidden: int, num_layers: int = 1, bias: bool = True,
                bidirectional: bool = False) -> int:
    """Parameters of ``torch.nn.{RNN,LSTM,GRU}(input_size, hidden, num_layers, bias=...,
    bidirectional=...)`` (no ``proj_size``). Layer l > 0 reads directions·H inputs."""
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else directions * hidden
        total += directions * layer_params(kind, layer_in, hidden, bias)
    return total


def matched_hidden(kind: str, input_size: int, target_params: int, max_hidden: int = 4096) -> int:
    """The hidden size of a one-layer ``kind`` whose parameter count is closest to
    ``target_params`` (ties: the smaller hidden size)."""
    return min(range(1, max_hidden), key=lambda h: (abs(param_count(kind, input_size, h)
                                                         - target_params), h))


def step_flops(kind: str, batch: int, input_size: int, hidden: int) -> dict[str, int]:
    """FLOPs of one forward time step: ``matmul`` 2·G·B·H·(I + H), ``elementwise``, ``total``."""
    k = _kind(kind)
    matmul = 2 * GATE_BLOCKS[k] * batch * hidden * (input_size + hidden)
    elementwise = ELEMENTWISE_PER_UNIT[k] * batch * hidden
    return {"matmul": matmul, "elementwise": elementwise, "total": matmul + elementwise}


def gemm_flops(kind: str, T: int, batch: int, input_size: int, hidden: int,
               training: bool = False) -> float:
    """GEMM FLOPs of a whole sequence: T steps, x3 for forward + backward (training)."""
    step = step_flops(kind, batch, input_size, hidden)["matmul"]
    return float(T * step * (TRAINING_FLOP_FACTOR if training else 1))
