"""Figures and animations: image grids, the photos, sliding-window animations, training plots.

Every plot helper returns a ``Figure`` (or an animation) and shows nothing.
"""

from cnnutils.viz.animation import (
    animation_html,
    sliding_window_animation,
    volume_conv_animation,
    volume_conv_frame,
)
from cnnutils.viz.images import show_images, show_orientation_histograms
from cnnutils.viz.photos import IMAGE_NAMES, PHOTOS, load_photo, load_photos
from cnnutils.viz.training import plot_confusion_matrix, plot_history

__all__ = [
    "IMAGE_NAMES",
    "PHOTOS",
    "animation_html",
    "load_photo",
    "load_photos",
    "plot_confusion_matrix",
    "plot_history",
    "show_images",
    "show_orientation_histograms",
    "sliding_window_animation",
    "volume_conv_animation",
    "volume_conv_frame",
]
