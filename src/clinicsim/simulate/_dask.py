"""Dask: the records table as a ``dask.dataframe`` built from the sampler's blocks.

Partitions are whole blocks, so a partition is computed anywhere (a thread, a process,
a remote worker) from the root seed and its block indices alone, and the computed
table equals ``sample(n, seed=...)`` whatever the partitioning.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._errors import ArgumentError, ClinicSimError
from .._io import deferred_stop
from .._random import SeedLike
from .._validate import check_int, shown
from ..model import (
    MAX_CHUNK_ROWS,
    MAX_PARTITIONS,
    WORKERS_PER_CORE,
    ClinicModel,
    max_workers,
)
from ._sample import BLOCK_ROWS, Sampler, check_chunk_size

if TYPE_CHECKING:
    import dask.dataframe
    import distributed

__all__ = ["PARTITION_BLOCKS", "check_cluster", "dask_client", "in_order", "partition_bounds",
           "to_dask"]

PARTITION_BLOCKS = 16  # default partition: 16 blocks, 1,048,576 rows
_INSTALL = "pip install 'clinicsim[dask]'"


def _import(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ClinicSimError(f"{module} is not installed; {_INSTALL}") from None


def partition_bounds(n: int, npartitions: int | None = None) -> list[int]:
    """Row boundaries ``[0, ..., n]`` of ``npartitions`` partitions, on block boundaries.

    With more partitions than blocks, partitions are slices of blocks (each computes
    the blocks it overlaps); the rows are the same either way.
    """
    blocks = -(-n // BLOCK_ROWS)
    if npartitions is None:
        npartitions = -(-blocks // PARTITION_BLOCKS)
    high = min(n, MAX_PARTITIONS)
    npartitions = check_int(npartitions, "npartitions", high=high, high_name=f"n={n}"
                            if high == n else f"MAX_PARTITIONS = {MAX_PARTITIONS:,}")
    if npartitions <= blocks:
        return [min(n, blocks * i // npartitions * BLOCK_ROWS) for i in range(npartitions + 1)]
    return [n * i // npartitions for i in range(npartitions + 1)]


class _Partition:
    """Rows ``start..stop-1`` of one sampler, indexed ``start..stop-1`` as in the full table."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:  # unique per to_dask call; pickling it would be slow
        return self._token

    def __call__(self, bounds: tuple[int, int]) -> pd.DataFrame:
        start, stop = bounds
        return self.sampler.rows(start, stop).set_axis(pd.RangeIndex(start, stop))


def to_dask(
    n: int,
    model: ClinicModel | None = None,
    seed: SeedLike = None,
    npartitions: int | None = None,
    *,
    engine: str = "numpy",
    extended: bool = False,
    given: Mapping[str, object] | None = None,
) -> dask.dataframe.DataFrame:
    """The records of ``sample(n, model=model, seed=seed)`` as a Dask DataFrame.

    Each partition draws its own blocks from the root seed, so computing the frame on
    any scheduler gives the same rows, index ``0..n-1`` and dtypes as :func:`sample`.
    ``seed=None`` draws fresh entropy once, here, and every partition shares it.

    Parameters
    ----------
    n, model, seed, engine, extended, given
        As for :func:`clinicsim.sample`.
    npartitions : int, optional
        Number of partitions; by default one per 16 blocks (1,048,576 rows).

    Examples
    --------
    >>> from clinicsim.simulate import to_dask
    >>> frame = to_dask(200_000, seed=1, npartitions=2)
    >>> frame.npartitions, len(frame.compute())
    (2, 200000)
    """
    dd = _import("dask.dataframe")
    sampler = Sampler(model, seed=seed, engine=engine, extended=extended, n=n, given=given)
    edges = partition_bounds(sampler.n, npartitions)
    ranges = list(itertools.pairwise(edges))
    meta = sampler.rows(0, 1).iloc[:0]
    return dd.from_map(_Partition(sampler), ranges, meta=meta, divisions=(*edges[:-1], n - 1),
                       label="clinicsim-sample", enforce_metadata=False)


def check_cluster(workers: int | None, scheduler: str | None) -> None:
    """Bad ``workers``/``scheduler`` arguments as a ClinicSimError naming them.

    Examples
    --------
    >>> from clinicsim.simulate import check_cluster
    >>> check_cluster(2, None)
    >>> check_cluster(0, None)
    Traceback (most recent call last):
        ...
    clinicsim._errors.ArgumentError: `workers` must be a positive integer; got 0
    """
    if workers is not None and scheduler is not None:
        raise ArgumentError(f"give either `workers` or `scheduler`, not both; got "
                            f"workers={shown(workers)} and scheduler={shown(scheduler)}")
    if workers is not None:
        most = max_workers()
        if check_int(workers, "workers") > most:
            raise ArgumentError(f"`workers` {workers:,} is above the limit of {most} local "
                                f"processes, WORKERS_PER_CORE = {WORKERS_PER_CORE} per CPU core "
                                "(sampling is CPU-bound: more processes only take memory)")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ArgumentError("`scheduler` must be an address such as tcp://host:8786; "
                            f"got {shown(scheduler)}")


@contextlib.contextmanager
def dask_client(workers: int | None = None,
                scheduler: str | None = None) -> Iterator[distributed.Client]:
    """A ``distributed.Client``: on ``workers`` local processes, or connected to ``scheduler``.

    A local cluster listens on the loopback interface only and is shut down on exit.
    A signal (SIGTERM, Ctrl-C) while it starts or stops is raised once that is done:
    distributed leaves the worker processes of an interrupted start running, and an
    interrupted stop can leave them and their semaphores behind.
    """
    check_cluster(workers, scheduler)
    distributed = _import("distributed")
    stack = contextlib.ExitStack()
    try:
        with deferred_stop():
            if scheduler is None:
                address = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers or 1, threads_per_worker=1, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR))
            else:
                address = scheduler
                _check_address(distributed, scheduler)
            try:
                client = stack.enter_context(distributed.Client(address, timeout="10s"))
            except (OSError, ValueError, TypeError) as exc:
                raise ClinicSimError(f"cannot connect to scheduler {scheduler!r}: {exc}"
                                     ) from None
        yield client
    finally:
        with deferred_stop():
            stack.close()


def _check_address(distributed, address: str) -> None:
    """Refuse an address that is not one before a Client is made of it: a Client that fails
    to parse it stays the default scheduler, and later computations in the process wait
    on it for ever."""
    try:
        scheme, _ = distributed.comm.parse_address(address)
        if scheme in ("tcp", "tls", "ws", "wss"):
            distributed.comm.get_address_host_port(address)
    except ValueError as exc:
        raise ArgumentError(f"`scheduler` {address!r} is not an address: {exc} (an address "
                            "is like tcp://host:8786)") from None


def in_order(frame: dask.dataframe.DataFrame, client: distributed.Client,
             ahead: int | None = None) -> Iterator[pd.DataFrame]:
    """The computed partitions of ``frame``, in order, with at most ``ahead`` in flight.

    Workers compute ahead of the writer but never more than ``ahead`` partitions
    (default: twice the cluster's threads), so memory stays bounded.
    """
    if ahead is None:
        ahead = 2 * max(1, sum(client.nthreads().values()))
    parts = iter(frame.to_delayed())
    running: deque = deque(client.compute(p) for p in itertools.islice(parts, ahead))
    while running:
        future = running.popleft()
        for part in parts:
            running.append(client.compute(part))
            break
        yield future.result()
        future.release()


def partition_rows(chunk_size: int) -> int:
    """Rows per partition for a requested chunk size: whole blocks, at least one.

    Examples
    --------
    >>> from clinicsim.simulate import BLOCK_ROWS, partition_rows
    >>> partition_rows(100_000) // BLOCK_ROWS, partition_rows(1) // BLOCK_ROWS
    (2, 1)
    """
    size = check_int(chunk_size, "chunk_size")
    if size > MAX_CHUNK_ROWS:
        check_chunk_size(size, size)  # the message of the upper bound
    return -(-size // BLOCK_ROWS) * BLOCK_ROWS
