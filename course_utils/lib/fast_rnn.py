"""The course's own fast LSTM and GRU in plain PyTorch: the first two of cuDNN's tricks.

Appleyard, Kociský & Blunsom (2016), *Optimizing Performance of Recurrent Neural Networks on
GPUs* (arXiv:1604.01946) list what makes cuDNN's RNN fast. Two of them need nothing but
PyTorch, and this module does exactly those two, plus CUDA graphs for the launch overhead:

1. **Hoist the input GEMM out of the loop.** ``x_t W_ih^T`` does not depend on the state, so
   all T steps are one big GEMM ``(T*B, I) @ (I, G*H)`` before the loop, at full GEMM speed.
2. **One fused gate GEMM per step.** The G gates' recurrent products are one
   ``(B, H) @ (H, G*H)`` GEMM (``torch.addmm`` adds the hoisted input part for free), not G
   small ones; the loop is left with one GEMM and a few pointwise ops per step.
3. **CUDA graphs** (on CUDA only): the ~10 kernel launches per step cost microseconds each
   from Python; capturing the whole unrolled forward once and replaying it turns them into one
   launch call from the CPU. That *reduces* launch cost, it does not remove it: the GPU still
   runs every captured kernel one after another, each with its own small start-up latency.
   The capture here is inference-only (no_grad; :func:`graphed_module` graphs training).
   cuDNN's other tricks: pointwise fusion needs no hand-written kernel (``torch.compile``'s
   Inductor and TorchScript's fusers generate fused gate kernels); persistent kernels that keep
   ``W_hh`` on chip across steps (Diamos et al. 2016) do, and PyTorch asks cuDNN for them only in
   narrow cases (see ``course_utils.labs.gpu_comparison.cudnn``).

Layout and gate order are torch.nn's (DESIGN.md): ``x`` (T, B, I), ``W_ih`` (G*H, I),
``W_hh`` (G*H, H), LSTM gates i, f, g, o; GRU gates r, z, n in the reset-after form
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Autograd works through both functions.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn


# --------------------------------------------------------------------------- functional forms
def lstm_hoisted(x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor,
                 b_ih: Tensor | None = None, b_hh: Tensor | None = None
                 ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """LSTM over a whole sequence with the input GEMM hoisted and one gate GEMM per step.

    x (T, B, I), h0/c0 (B, H) -> (output (T, B, H), (h_n (B, H), c_n (B, H))), same result as
    ``torch.nn.LSTM`` (one layer, time-major) with these weights.
    """
    T, B, I = x.shape
    H = W_hh.shape[1]
    bias = None
    if b_ih is not None:
        bias = b_ih + b_hh if b_hh is not None else b_ih  # both biases folded into one (4H,)
    elif b_hh is not None:
        bias = b_hh
    x2d = x.reshape(T * B, I)  # (T*B, I): time-major rows, t slowest
    if bias is None:
        xw = x2d @ W_ih.t()
    else:
        xw = torch.addmm(bias, x2d, W_ih.t())  # (T*B, 4H): one GEMM for every step
    xw = xw.view(T, B, 4 * H)
    W_hh_t = W_hh.t()  # (H, 4H)
    h, c = h0, c0
    outs = []
    for t in range(T):
        gates = torch.addmm(xw[t], h, W_hh_t)  # (B, 4H): the one GEMM of the step
        i, f, g, o = gates.chunk(4, dim=1)  # each (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), (h, c)  # (T, B, H)


def gru_hoisted(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor,
                b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """GRU (reset-after, as torch.nn.GRU) with the input GEMM hoisted, one gate GEMM per step.

    x (T, B, I), h0 (B, H) -> (output (T, B, H), h_n (B, H)). ``b_hh`` cannot be folded into
    the hoisted part: its n-slice sits inside ``r * (W_hn h + b_hn)``.
    """
    T, B, I = x.shape
    H = W_hh.shape[1]
    x2d = x.reshape(T * B, I)  # (T*B, I)
    xw = (torch.addmm(b_ih, x2d, W_ih.t()) if b_ih is not None else x2d @ W_ih.t()).view(T, B, 3 * H)
    W_hh_t = W_hh.t()  # (H, 3H)
    h = h0
    outs = []
    for t in range(T):
        hw = torch.addmm(b_hh, h, W_hh_t) if b_hh is not None else h @ W_hh_t  # (B, 3H)
        x_r, x_z, x_n = xw[t].chunk(3, dim=1)
        h_r, h_z, h_n = hw.chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h = n + z * (h - n)  # = (1 - z) * n + z * h, one op fewer
        outs.append(h)
    return torch.stack(outs), h


# --------------------------------------------------------------------------- modules
class FastRNN(nn.Module):
    """One-layer, time-major LSTM or GRU with torch.nn's parameter names and initialisation.

    ``FastRNN.from_torch(nn.LSTM(...))`` shares the weights of an existing module, so the two
    can be compared on equal terms. ``forward(x, hx=None)`` returns what torch.nn returns,
    with the state's leading layer axis: ``(output, (h_n, c_n))`` or ``(output, h_n)``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if mode not in ("LSTM", "GRU"):
            raise ValueError(f"mode must be 'LSTM' or 'GRU', got {mode!r}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        G = 4 if mode == "LSTM" else 3
        kw = {"device": device, "dtype": dtype}
        self.weight_ih_l0 = nn.Parameter(torch.empty(G * hidden_size, input_size, **kw))
        self.weight_hh_l0 = nn.Parameter(torch.empty(G * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih_l0 = nn.Parameter(torch.empty(G * hidden_size, **kw))
            self.bias_hh_l0 = nn.Parameter(torch.empty(G * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih_l0", None)
            self.register_parameter("bias_hh_l0", None)
        bound = hidden_size ** -0.5  # torch.nn.RNNBase.reset_parameters
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    @classmethod
    def from_torch(cls, module: nn.LSTM | nn.GRU) -> FastRNN:
        """A FastRNN that *shares* the parameters of a one-layer, unidirectional nn.LSTM/GRU."""
        if module.num_layers != 1 or module.bidirectional or module.batch_first or module.proj_size:
            raise ValueError("FastRNN mirrors one-layer, unidirectional, time-major modules only")
        mode = "LSTM" if isinstance(module, nn.LSTM) else "GRU"
        w = module.weight_ih_l0
        fast = cls(mode, module.input_size, module.hidden_size, bias=module.bias,
                   device=w.device, dtype=w.dtype)
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            setattr(fast, name, getattr(module, name, None))
        return fast

    def forward(self, x: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        B, H = x.shape[1], self.hidden_size
        params = (self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0)
        if self.mode == "LSTM":
            if hx is None:
                zeros = x.new_zeros(B, H)
                h0, c0 = zeros, zeros
            else:
                h0, c0 = hx[0][0], hx[1][0]  # drop the layer axis: (1, B, H) -> (B, H)
            out, (h, c) = lstm_hoisted(x, h0, c0, *params)
            return out, (h[None], c[None])
        h0 = x.new_zeros(B, H) if hx is None else hx[0]
        out, h = gru_hoisted(x, h0, *params)
        return out, h[None]


# --------------------------------------------------------------------------- CUDA graphs
def capture_cuda_graph(fn: Callable[..., Any], *example_inputs: Tensor,
                       warmup: int = 3) -> Callable[..., Any]:
    """Inference-only CUDA-graph version of ``fn`` for inputs shaped like ``example_inputs``.

    On CUDA, ``fn`` is warmed up on a side stream, captured once with ``torch.cuda.graph`` under
    ``torch.no_grad()``, and the returned callable copies its arguments into the static input
    buffers, replays the graph and returns the static outputs (overwritten by the next call:
    clone them to keep them). On CPU there is nothing to capture: ``fn`` runs under no_grad.
    See https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs.
    """
    if not example_inputs or example_inputs[0].device.type != "cuda":
        def eager(*inputs: Tensor) -> Any:
            with torch.no_grad():
                return fn(*inputs)
        eager.captured = False  # type: ignore[attr-defined]
        return eager

    static_in = [t.detach().clone() for t in example_inputs]
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(warmup):  # lets cuBLAS pick its kernels and allocate workspace first
            fn(*static_in)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        static_out = fn(*static_in)

    def replay(*inputs: Tensor) -> Any:
        for buf, new in zip(static_in, inputs):
            if new.data_ptr() != buf.data_ptr():
                buf.copy_(new)
        graph.replay()
        return static_out

    replay.captured = True  # type: ignore[attr-defined]
    replay.graph = graph  # type: ignore[attr-defined]
    return replay


def graphed_module(module: nn.Module, x: Tensor) -> Callable[[Tensor], Any]:
    """Forward *and* backward of ``module(x)`` captured as CUDA graphs (training), via
    ``torch.cuda.make_graphed_callables``; on CPU returns ``module`` unchanged."""
    if x.device.type != "cuda":
        return module
    return torch.cuda.make_graphed_callables(module, (x,))


def fast_forward(module: FastRNN, x: Tensor, use_graph: bool = True
                 ) -> Callable[[Tensor], Tensor]:
    """Inference closure ``x -> output`` of a FastRNN, graph-captured on CUDA when asked."""
    def run(inp: Tensor) -> Tensor:
        return module(inp)[0]

    if use_graph and x.device.type == "cuda":
        return capture_cuda_graph(run, x)
    return capture_cuda_graph(run)  # eager under no_grad


__all__ = ["lstm_hoisted", "gru_hoisted", "FastRNN", "capture_cuda_graph", "graphed_module",
           "fast_forward"]
