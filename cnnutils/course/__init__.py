"""Course material: the exercises' self-checks and the two convolution explorers.

- :func:`check` (:mod:`cnnutils.course.exercises`): ``check("NN.k", globals())`` after a
  chapter's exercise says "solved" or gives a hint.
- :func:`conv_explorer_html` / :func:`display_conv_explorer` (:mod:`cnnutils.course.explorer`):
  the *layer* explorer, plain JavaScript that runs on the static site without a kernel (output
  size, cost, which inputs the windows read).
- :func:`conv_explorer` / :func:`render_convolution` (:mod:`cnnutils.course.widgets`): the
  *filter* explorer, ipywidgets controls that filter a photo with a classic kernel (needs a
  kernel, or a page with saved widget state).
- :mod:`cnnutils.course.experiments`: results over several seeds (means, spreads, per-seed
  margins), the results of the scripts in ``experiments/`` that chapters read, and chapter 07's
  training recipe. Its names are re-exported by :mod:`cnnutils`.
"""

from cnnutils.course.exercises import check
from cnnutils.course.explorer import conv_explorer_html, display_conv_explorer
from cnnutils.course.widgets import classic_kernel, conv_explorer, render_convolution

__all__ = [
    "check",
    "classic_kernel",
    "conv_explorer",
    "conv_explorer_html",
    "display_conv_explorer",
    "render_convolution",
]
