"""cnnutils: the code behind the CNN lecture book.

Layers, each importable on its own, lowest first:

- :mod:`cnnutils.runtime`: seeding and the device.
- :mod:`cnnutils.geometry`: output sizes, the fits-check, receptive fields, costs, window taps
  (the only copy of each formula).
- :mod:`cnnutils.ops`: the operations from scratch (convolution, pooling, LRN, locally connected
  layers, classic filters, shifts), tested against ``torch.nn.functional``.
- :mod:`cnnutils.models`: network builders (LeNet-5, AlexNet) and a layer summary.
- :mod:`cnnutils.data`: datasets, synthetic shapes, augmentations.
- :mod:`cnnutils.training`: the training loop, metrics, transfer learning, parallelism.
- :mod:`cnnutils.viz`: figures, photos and animations.
- :mod:`cnnutils.course`: the exercises' self-checks, the explorers, and the experiments'
  results over seeds.

Every public name is also importable from ``cnnutils`` itself, as below.
"""

from cnnutils.course.experiments import (
    SMALL_ALEXNET,
    SMALL_ALEXNET_BATCH,
    MeanStd,
    invariance_probe,
    load_results,
    mean_std,
    over_seeds,
    results_path,
    save_results,
    shapes_data,
    small_alexnet,
    train_small_alexnet,
    worst_margin,
)
from cnnutils.course.explorer import conv_explorer_html, display_conv_explorer
from cnnutils.course.widgets import conv_explorer, render_convolution
from cnnutils.data.augment import (
    pca_colour_basis,
    pca_colour_jitter,
    random_affine,
    random_crop,
    random_flip,
    random_shift,
)
from cnnutils.data.datasets import (
    DataSplit,
    ImageDataset,
    channel_stats,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    stratified_split,
)
from cnnutils.data.shapes import make_shapes
from cnnutils.geometry import (
    ConvCost,
    ReceptiveField,
    conv2d_cost,
    conv_output_size,
    output_length,
    pool_output_size,
    receptive_field,
    untouched_indices,
    window_taps,
)
from cnnutils.models.alexnet import AlexNet, AlexNetConfig, alexnet
from cnnutils.models.lenet5 import (
    C3_TABLE,
    C3Connections,
    LeNet5,
    LeNet5Config,
    ScaledTanh,
    lenet5,
)
from cnnutils.models.summary import LayerSummary, layer_summary
from cnnutils.ops.conv import conv2d, convolve2d, correlate2d
from cnnutils.ops.equivariance import equivariance_error, invariance_error, shift
from cnnutils.ops.filters import (
    box_kernel,
    filter2d,
    gabor_kernel,
    gaussian_kernel,
    gradient_magnitude_orientation,
    laplacian_kernel,
    orientation_histogram,
    sharpen_kernel,
    sobel_kernels,
)
from cnnutils.ops.locally_connected import LocallyConnected2d, locally_connected2d
from cnnutils.ops.lrn import LocalResponseNorm, local_response_norm
from cnnutils.ops.pooling import (
    MaxPool2d,
    MaxPoolCache,
    adaptive_avg_pool2d,
    avg_pool2d,
    disk_footprint,
    disk_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)
from cnnutils.runtime import get_device, in_colab, seed_everything
from cnnutils.training.loop import Evaluation, History, evaluate, fit, predict
from cnnutils.training.metrics import confusion_matrix
from cnnutils.training.parallel import (
    GroupsOnDevices,
    demo_problem,
    launch,
    split_grouped_conv,
    train_steps,
)
from cnnutils.training.transfer import (
    FrozenBatchNorm,
    ProbeResult,
    WeightsUnavailableError,
    extract_features,
    find_head,
    freeze,
    linear_probe,
    load_pretrained,
    norm_only,
    param_groups,
    replace_head,
    unfreeze,
    weights_info,
)
from cnnutils.viz.animation import (
    animation_html,
    sliding_window_animation,
    volume_conv_animation,
    volume_conv_frame,
)
from cnnutils.viz.architecture import draw_architecture
from cnnutils.viz.diagrams import (
    connections_figure,
    dense_vs_local_figure,
    depends_on,
    reached_from,
    show_matrices,
)
from cnnutils.viz.images import show_images, show_orientation_histograms
from cnnutils.viz.layers import (
    draw_bottleneck,
    draw_conv_volume,
    draw_max_pool_backward,
    overlap_backward_animation,
    shift_curves_figure,
    show_feature_maps,
)
from cnnutils.viz.learned import (
    ActivationMaximum,
    TopPatches,
    maximise_activation,
    top_patches,
)
from cnnutils.viz.photos import load_photo, load_photos
from cnnutils.viz.runs import plot_over_seeds, plot_runs
from cnnutils.viz.training import plot_confusion_matrix, plot_history

__all__ = [
    "C3_TABLE",
    "SMALL_ALEXNET",
    "SMALL_ALEXNET_BATCH",
    "ActivationMaximum",
    "AlexNet",
    "AlexNetConfig",
    "C3Connections",
    "ConvCost",
    "DataSplit",
    "Evaluation",
    "FrozenBatchNorm",
    "GroupsOnDevices",
    "History",
    "ImageDataset",
    "LayerSummary",
    "LeNet5",
    "LeNet5Config",
    "LocalResponseNorm",
    "LocallyConnected2d",
    "MaxPool2d",
    "MaxPoolCache",
    "MeanStd",
    "ProbeResult",
    "ReceptiveField",
    "ScaledTanh",
    "TopPatches",
    "WeightsUnavailableError",
    "adaptive_avg_pool2d",
    "alexnet",
    "animation_html",
    "avg_pool2d",
    "box_kernel",
    "channel_stats",
    "confusion_matrix",
    "connections_figure",
    "conv2d",
    "conv2d_cost",
    "conv_explorer",
    "conv_explorer_html",
    "conv_output_size",
    "convolve2d",
    "correlate2d",
    "demo_problem",
    "dense_vs_local_figure",
    "depends_on",
    "disk_footprint",
    "disk_pool2d",
    "display_conv_explorer",
    "draw_architecture",
    "draw_bottleneck",
    "draw_conv_volume",
    "draw_max_pool_backward",
    "equivariance_error",
    "evaluate",
    "extract_features",
    "filter2d",
    "find_head",
    "fit",
    "freeze",
    "gabor_kernel",
    "gaussian_kernel",
    "get_device",
    "global_avg_pool2d",
    "global_max_pool2d",
    "gradient_magnitude_orientation",
    "in_colab",
    "invariance_error",
    "invariance_probe",
    "laplacian_kernel",
    "launch",
    "layer_summary",
    "lenet5",
    "linear_probe",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_photo",
    "load_photos",
    "load_pretrained",
    "load_results",
    "local_response_norm",
    "locally_connected2d",
    "make_shapes",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "maximise_activation",
    "mean_std",
    "norm_only",
    "orientation_histogram",
    "output_length",
    "over_seeds",
    "overlap_backward_animation",
    "param_groups",
    "pca_colour_basis",
    "pca_colour_jitter",
    "plot_confusion_matrix",
    "plot_history",
    "plot_over_seeds",
    "plot_runs",
    "pool_output_size",
    "predict",
    "random_affine",
    "random_crop",
    "random_flip",
    "random_shift",
    "reached_from",
    "receptive_field",
    "render_convolution",
    "replace_head",
    "results_path",
    "save_results",
    "seed_everything",
    "shapes_data",
    "sharpen_kernel",
    "shift",
    "shift_curves_figure",
    "show_feature_maps",
    "show_images",
    "show_matrices",
    "show_orientation_histograms",
    "sliding_window_animation",
    "small_alexnet",
    "sobel_kernels",
    "split_grouped_conv",
    "stratified_split",
    "top_patches",
    "train_small_alexnet",
    "train_steps",
    "unfreeze",
    "untouched_indices",
    "volume_conv_animation",
    "volume_conv_frame",
    "weights_info",
    "window_taps",
    "worst_margin",
]
__version__ = "0.1.0"
