"""Where dask work runs: local threads, or a dask.distributed cluster.

``--scheduler tcp://host:8786`` on the CLI or ``ECOPLAN_DASK_SCHEDULER`` in the environment
sends the block tasks to that cluster; without either, dask's threaded scheduler uses the
local cores (GDAL reads, rasterisation and numpy reductions release the GIL for most of a
block's time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ecoplan.config import get_settings
from ecoplan.errors import EcoplanError


def scheduler_address(explicit: str | None = None) -> str | None:
    return explicit or get_settings().dask_scheduler


def compute(obj: Any, *, scheduler: str | None = None) -> Any:
    """Compute a dask collection or delayed object and return its value."""
    from dask.base import compute as dask_compute

    address = scheduler_address(scheduler)
    if not address:
        return dask_compute(obj, scheduler="threads")[0]
    from distributed import Client

    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise EcoplanError(f"无法连接 dask 集群 {address}: {exc}") from exc
    with client:
        return client.compute(obj, sync=True)


@contextmanager
def computer(scheduler: str | None = None) -> Iterator[Callable[[Any], Any]]:
    """A ``compute(obj)`` function for many calls, holding one cluster connection throughout."""
    from dask.base import compute as dask_compute

    address = scheduler_address(scheduler)
    if not address:
        yield lambda obj: dask_compute(obj, scheduler="threads")[0]
        return
    from distributed import Client

    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise EcoplanError(f"无法连接 dask 集群 {address}: {exc}") from exc
    with client:
        yield lambda obj: client.compute(obj, sync=True)
