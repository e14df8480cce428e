"""Notebook 06 (real batches): what each output of a deep / bidirectional LSTM can see, PyTorch's
layouts, a padded batch of real sentences, the loss bias of forgetting the mask, and packed vs
padded timing (like with like, with the kernels that ran).

* :mod:`.views` — :func:`sensitivity_maps`, :func:`plot_sensitivity`, :func:`lstm_layouts`;
* :mod:`.padding` — sentences (:func:`load_sentences`), :func:`pad_batch`, :func:`batches`, a
  character model and the loss means (:func:`bias_table`);
* :mod:`.timing` — :func:`packed_vs_padded` (oneDNN and op-by-op), :func:`lstm_kernels`
  (``torch.profiler``).

The exercises' answers are not here: the notebook's ``lstm_stack_forward``,
``lstm_forward_padded`` and ``bilstm_forward_padded`` are the learner's; this package only uses
``torch.nn.LSTM``.

References: PyTorch documentation of ``torch.nn.LSTM`` and ``torch.nn.utils.rnn``
(``pack_padded_sequence``, ``pad_packed_sequence``); Schuster & Paliwal (1997), "Bidirectional
recurrent neural networks"; Graves, Mohamed & Hinton (2013), "Speech recognition with deep
recurrent neural networks".
"""

from .padding import (
    PAD,
    batches,
    bias_table,
    char_model,
    load_sentences,
    loss_variants,
    pad_batch,
    real_mask,
    token_losses,
    train_masked,
    vocabulary,
)
from .timing import CONFIGS, KERNEL_OPS, lstm_kernels, packed_vs_padded
from .views import lstm_layouts, plot_sensitivity, sensitivity_maps

__all__ = ["PAD", "batches", "bias_table", "char_model", "load_sentences", "loss_variants",
           "pad_batch", "real_mask", "token_losses", "train_masked", "vocabulary", "CONFIGS",
           "KERNEL_OPS", "lstm_kernels", "packed_vs_padded", "lstm_layouts", "plot_sensitivity",
           "sensitivity_maps"]
