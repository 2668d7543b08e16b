"""Figures and animations: image grids, the photos, sliding-window animations, training plots.

Every plot helper returns a ``Figure`` (or an animation) and shows nothing.

Modules: :mod:`cnnutils.viz.animation`, :mod:`cnnutils.viz.architecture`,
:mod:`cnnutils.viz.images`, :mod:`cnnutils.viz.learned`, :mod:`cnnutils.viz.photos`,
:mod:`cnnutils.viz.runs`, :mod:`cnnutils.viz.training`. Their public names are re-exported by
:mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
