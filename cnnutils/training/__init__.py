"""Training: the loop, metrics, transfer learning, and parallelism (data and model)."""

from cnnutils.training.loop import Evaluation, History, evaluate, fit, predict
from cnnutils.training.metrics import confusion_matrix
from cnnutils.training.parallel import (
    GroupsOnDevices,
    demo_problem,
    free_port,
    launch,
    main,
    shard,
    split_grouped_conv,
    train_steps,
)
from cnnutils.training.transfer import (
    NORM_LAYERS,
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

__all__ = [
    "NORM_LAYERS",
    "Evaluation",
    "GroupsOnDevices",
    "History",
    "ProbeResult",
    "WeightsUnavailableError",
    "confusion_matrix",
    "demo_problem",
    "evaluate",
    "extract_features",
    "find_head",
    "fit",
    "free_port",
    "freeze",
    "launch",
    "linear_probe",
    "load_pretrained",
    "main",
    "norm_only",
    "param_groups",
    "predict",
    "replace_head",
    "shard",
    "split_grouped_conv",
    "train_steps",
    "unfreeze",
    "weights_info",
]
