"""Helpers of notebook 02 (vanishing and exploding gradients).

* :func:`draw_bptt_graph` — the unrolled graph with the forward pass and BPTT's messages;
* :func:`numerical_gradient_check` — central differences against your analytic gradients;
* the Jacobian lab: :func:`step_jacobians`, :func:`jacobian_norms_vs_lag`,
  :func:`plot_norms_vs_lag`, :func:`gradient_explorer` (ipywidgets);
* :func:`train_with_grad_norms` — a training loop recording loss and gradient norm, with or
  without norm clipping (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
  recurrent neural networks", ICML);
* :func:`first_token_task` / :func:`distance_experiment` / :func:`distance_suite` — a tanh RNN
  asked to remember the first token's sign over T steps (Bengio, Simard & Frasconi 1994,
  "Learning long-term dependencies with gradient descent is difficult", IEEE TNN 5(2));
* :func:`clipping_experiment` / :func:`blow_up_step` — the same training with and without
  gradient-norm clipping, several seeds.

numpy is imported at module level; torch, matplotlib, ipywidgets and tqdm only inside the
functions that use them, so ``import course_utils`` stays light.
"""

from .diagrams import draw_bptt_graph
from .gradcheck import GRAD_KEYS, GradCheckReport, numerical_gradient_check, rnn_forward_numpy
from .jacobians import (
                        drive_sweep,
                        explorer_figure,
                        gradient_explorer,
                        jacobian_norms_vs_lag,
                        plot_norms_vs_lag,
                        scaled_recurrent_matrix,
                        spectral_radius,
                        step_jacobians,
)
from .training import (
                        DISTANCE_SUITE,
                        SOLVED,
                        blow_up_step,
                        clipping_experiment,
                        distance_experiment,
                        distance_suite,
                        first_solved,
                        first_token_task,
                        grad_norm,
                        make_sign_rnn,
                        single_thread,
                        train_first_token,
                        train_with_grad_norms,
)

__all__ = ["draw_bptt_graph", "GRAD_KEYS", "GradCheckReport", "numerical_gradient_check", "rnn_forward_numpy",
           "drive_sweep", "explorer_figure", "gradient_explorer", "jacobian_norms_vs_lag",
           "plot_norms_vs_lag",
           "scaled_recurrent_matrix", "spectral_radius", "step_jacobians", "DISTANCE_SUITE",
           "SOLVED", "blow_up_step", "clipping_experiment", "distance_experiment",
           "distance_suite", "first_solved", "first_token_task", "grad_norm", "make_sign_rnn",
           "single_thread", "train_first_token", "train_with_grad_norms"]
