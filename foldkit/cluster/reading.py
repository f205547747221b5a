"""Reading captures on a cluster: one task per input, the profiles merged in input order as they
come back, so the result is `foldkit.ingest.read`'s."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from foldkit.cluster.session import Cluster, Outcome
from foldkit.errors import InputError, UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.inputs import InputSpec
from foldkit.profile import Profile, ProfileMerger

if TYPE_CHECKING:
    from foldkit.transform import Pipeline

Reader = Callable[[InputSpec | Sequence[InputSpec], FoldOptions], Profile]


def read_one(spec: str, options: FoldOptions) -> Profile:
    """One input folded (on a worker)."""
    return read([spec], options)


def _specs(inputs: InputSpec | Sequence[InputSpec]) -> list[str]:
    items = [inputs] if isinstance(inputs, str | bytes) or hasattr(inputs, "__fspath__") else list(inputs)
    specs = []
    for spec in items:
        if isinstance(spec, bytes) or os.fspath(spec) == "-":
            raise UsageError("--cluster reads files and URLs, not standard input or bytes")
        specs.append(os.fspath(spec))
    return specs


def read_on(cluster: Cluster, inputs: InputSpec | Sequence[InputSpec], options: FoldOptions) -> Profile:
    """`foldkit.ingest.read(inputs, options)`, each input read by a worker of `cluster`."""
    specs = _specs(inputs)
    options = replace(options, jobs=1)  # a Dask worker may not start processes of its own
    merger = ProfileMerger()
    for _, profile in _in_order(specs, cluster.run(read_one, [(spec, options) for spec in specs], "fold")):
        merger.add(profile)  # merged in input order: sums of fractions are the local run's
    return merger.result()


def _in_order(specs: Sequence[str], outcomes: Iterable[Outcome]) -> Iterator[tuple[str, Profile]]:
    """(input, its profile) for the cluster's `outcomes`, in input order whatever order they came in."""
    waiting: dict[int, Profile] = {}
    following = 0
    for outcome in outcomes:
        waiting[outcome.index] = _value(specs, outcome)
        while following in waiting:
            yield specs[following], waiting.pop(following)
            following += 1


def _value(specs: Sequence[str], outcome: Outcome) -> Profile:
    if outcome.lost is not None:
        raise InputError(f"{specs[outcome.index]}: {outcome.lost}")
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


def reader(cluster: Cluster) -> Reader:
    """A reader (as `Pipeline.read` takes) that reads on `cluster`."""

    def read_on_cluster(inputs: InputSpec | Sequence[InputSpec], options: FoldOptions) -> Profile:
        return read_on(cluster, inputs, options)

    return read_on_cluster


def read_transformed(spec: str, options: FoldOptions, pipeline: Pipeline) -> Profile:
    """One input read and transformed as `pipeline.read` does (on a worker)."""
    return pipeline.read([spec], options)


def read_each(
    inputs: Sequence[str], options: FoldOptions, pipeline: Pipeline, cluster: Cluster | None = None
) -> Iterator[tuple[str, Profile]]:
    """(input, its profile read and transformed by `pipeline`) for every input, in input order;
    read on `cluster` when given, else here one after the other."""
    specs = _specs(inputs)
    if cluster is None:
        for spec in specs:
            yield spec, pipeline.read([spec], options)
        return
    options = replace(options, jobs=1)
    yield from _in_order(specs, cluster.run(read_transformed, [(spec, options, pipeline) for spec in specs], "fold"))
