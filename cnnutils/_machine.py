"""Facts about the machine that size buffers: its memory and its CPU caches.

Read from the operating system when asked (never at import); ``None`` or an empty dict where
the system does not say (Windows has no ``sysconf``; some virtual machines hide their caches).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["cache_bytes", "memory_bytes"]

_CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")
_SYSCONF_CACHES = {
    "L1d": "SC_LEVEL1_DCACHE_SIZE",
    "L2": "SC_LEVEL2_CACHE_SIZE",
    "L3": "SC_LEVEL3_CACHE_SIZE",
}


@functools.cache
def memory_bytes() -> int | None:
    """Physical memory in bytes, or ``None`` if the system does not say."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return total if total > 0 else None


def _size(text: str) -> int:
    """``"32K"``, ``"1024K"``, ``"32M"`` or ``"512"`` (bytes) as a number of bytes."""
    text = text.strip()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


@functools.cache
def cache_bytes() -> dict[str, int]:
    """CPU 0's data caches in bytes, ``{"L1d": ..., "L2": ..., "L3": ...}``, those known.

    Linux's ``/sys/devices/system/cpu/cpu0/cache`` first, then glibc's ``sysconf``. L3 is
    shared between cores (and, on a virtual machine, with other machines on the same host).
    """
    sizes: dict[str, int] = {}
    for index in sorted(_CACHE_DIR.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = _size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified") and size > 0:
            sizes["L1d" if level == "1" else f"L{level}"] = size
    for name, key in _SYSCONF_CACHES.items():
        if name in sizes:
            continue
        try:
            size = os.sysconf(key)
        except (AttributeError, ValueError, OSError):
            continue
        if size > 0:
            sizes[name] = size
    return sizes
