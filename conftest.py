"""Root pytest configuration: every test run, nbval's notebook kernels included, has no network.

The guard (tests/netguard/sitecustomize.py) is installed in this process and, through
PYTHONPATH, in every Python process started from it — the kernels nbval launches import it at
start-up. Only connections to this machine are allowed.
"""

import importlib.util
import os
from pathlib import Path

_GUARD = Path(__file__).resolve().parent / "tests" / "netguard"

os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(_GUARD), os.environ.get("PYTHONPATH", "")) if p
)
os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars stay quiet in tests and kernels

_spec = importlib.util.spec_from_file_location("_cnnbook_netguard", _GUARD / "sitecustomize.py")
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))
