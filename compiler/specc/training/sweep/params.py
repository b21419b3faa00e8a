"""The swept values: ``--grid`` and ``--range`` read into Params, and the spec with a point's
values put at their paths, checked before any trial runs."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from specc.analysis.pipeline import Compiled, compile_loaded
from specc.errors import SpecError
from specc.language import loader, overrides, paths
from specc.language.paths import SpecPath

CHECK_ALL_POINTS = 1000
"""A grid of up to this many points has each checked before any trial (about 1 ms each)."""


class SweepUsageError(Exception):
    """The command line asks for something impossible (exit 2); the message is one line."""


@dataclass(frozen=True)
class Param:
    """One swept spec path: a list of values (``--grid``) or a numeric range (``--range``)."""

    path: SpecPath
    flag: str
    """Where it was given, for messages: ``--grid #1``."""
    values: tuple[Any, ...] = ()
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False

    @property
    def name(self) -> str:
        """The path as text: the parameter's name in Optuna and in the tables."""
        return paths.render(self.path)

    @property
    def is_grid(self) -> bool:
        return self.low is None

    @property
    def whole(self) -> bool:
        """Whether every value is an integer (a count): its axis ticks integers only."""
        ends = self.values if self.is_grid else (self.low, self.high)
        return all(isinstance(v, int) and not isinstance(v, bool) for v in ends)

    def definition(self) -> dict[str, Any]:
        if self.is_grid:
            return {"path": self.name, "values": list(self.values)}
        return {"path": self.name, "low": self.low, "high": self.high, "log": self.log}

    def probes(self) -> list[Any]:
        """Values checked before any trial runs: every grid value, a range's two ends."""
        return list(self.values) if self.is_grid else [self.low, self.high]

    def suggest(self, trial: Any) -> Any:
        if self.is_grid:
            return trial.suggest_categorical(self.name, list(self.values))
        if isinstance(self.low, int) and isinstance(self.high, int):
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)  # type: ignore[arg-type]  # low/high are numbers when not a grid (validated by the schema)


def _yaml_value(text: str, flag: str) -> Any:
    """``text`` read as specc reads a value in a spec (YAML 1.2: ``1e-3`` is a float)."""
    try:
        return loader.load_text(f"v: {text}\n", flag).data["v"]
    except SpecError as exc:
        # positions would count the "v: " put in front: leave them out
        problem = re.sub(r" \(.* at line \d+, column \d+\)$", "", exc.diagnostics[0].message)
        raise SweepUsageError(f"{flag}: {text!r} is not a YAML value: {problem}") from None


def _split(text: str, flag: str, example: str) -> tuple[SpecPath, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise SweepUsageError(f"{flag}: {text!r}: expected PATH=VALUES, e.g. {example}")
    try:
        return paths.parse(name.strip()), value.strip()
    except paths.PathError as exc:
        raise SweepUsageError(f"{flag}: {exc}") from None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def parse_grid(text: str, index: int) -> Param:
    """``PATH=[v1, v2, ...]`` (a single value is a grid of one).

    >>> parse_grid("compile.optimizer.learning_rate=[1e-3, 0.01]", 1).values
    (0.001, 0.01)
    """
    flag = f"--grid #{index}"
    path, raw = _split(text, flag, "'model.layers[1].rate=[0.25, 0.5]'")
    value = _yaml_value(raw, flag)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SweepUsageError(f"{flag}: {paths.render(path)}: the list of values is empty")
    for item in values:
        if not _scalar(item):
            raise SweepUsageError(
                f"{flag}: {paths.render(path)}: {json.dumps(item)} is not a single value; "
                "sweep a nested value by its own path (e.g. model.layers[0].kernel_size[0])"
            )
    seen: list[Any] = []
    for item in values:
        if any(type(item) is type(s) and item == s for s in seen):
            raise SweepUsageError(f"{flag}: {paths.render(path)}: {item!r} is listed twice")
        seen.append(item)
    return Param(path, flag, values=tuple(values))


_RANGE = re.compile(r"(?P<low>.+?)\.\.(?P<high>.+?)(?P<log>:log)?")


def parse_range(text: str, index: int) -> Param:
    """``PATH=LOW..HIGH`` or ``PATH=LOW..HIGH:log``; two integers make an integer range.

    >>> p = parse_range("compile.optimizer.learning_rate=1e-4..1e-2:log", 1)
    >>> p.low, p.high, p.log
    (0.0001, 0.01, True)
    """
    flag = f"--range #{index}"
    example = "'compile.optimizer.learning_rate=1e-4..1e-2:log'"
    path, raw = _split(text, flag, example)
    match = _RANGE.fullmatch(raw)
    if match is None:
        raise SweepUsageError(
            f"{flag}: {raw!r}: expected LOW..HIGH or LOW..HIGH:log, e.g. {example}"
        )
    ends = [_yaml_value(match[k].strip(), flag) for k in ("low", "high")]
    for end in ends:
        if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end):
            raise SweepUsageError(f"{flag}: {raw!r}: {end!r} is not a finite number")
    low, high = ends
    if not low < high:
        raise SweepUsageError(f"{flag}: {raw!r}: the low end must be below the high end")
    log = match["log"] is not None
    if log and low <= 0:
        raise SweepUsageError(f"{flag}: {raw!r}: a :log range needs a low end above 0")
    return Param(path, flag, low=low, high=high, log=log)


def parse_params(grids: Sequence[str], ranges: Sequence[str]) -> list[Param]:
    params = [parse_grid(t, i) for i, t in enumerate(grids, 1)]
    params += [parse_range(t, i) for i, t in enumerate(ranges, 1)]
    if not params:
        raise SweepUsageError("nothing to sweep: give at least one --grid or --range")
    seen: dict[str, str] = {}
    for p in params:
        if p.name in seen:
            raise SweepUsageError(f"{p.flag}: {p.name} is already swept by {seen[p.name]}")
        seen[p.name] = p.flag
    for p, q in itertools.permutations(params, 2):  # one value would replace the other's
        if q.path[: len(p.path)] == p.path:
            raise SweepUsageError(
                f"{q.flag}: {q.name} is inside {p.name}, swept by {p.flag}: "
                "each value there would replace it; sweep paths that do not contain each other"
            )
    return params


def spec_with(loaded: loader.Loaded, params: Sequence[Param], point: Sequence[Any]) -> Compiled:
    """The spec with each parameter's value put at its path, checked as a file is.

    The values are overrides, applied as ``--set`` applies them (:mod:`specc.language.
    overrides`) to the spec with its bases merged, so an error about a swept value names
    it (``SPEC: --grid #1 (model.layers[0].units=-1): error: ...``) and any other points
    into the file that holds it. Raises SpecError (exit code 2: a path that does not fit).
    """
    edits = [
        overrides.of(p.path, v, f"{p.flag} ({p.name}={json.dumps(v)})")
        for p, v in zip(params, point, strict=True)
    ]
    return compile_loaded(overrides.apply(loaded, edits))


def _said(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items())


def check_values(loaded: loader.Loaded, params: Sequence[Param], grid: bool) -> Compiled:
    """Refuse, before any trial, a path that does not fit the spec or values that make it
    invalid: every point of a grid of up to CHECK_ALL_POINTS, else each value and range end
    on its own (a point of a bigger grid that only its combination makes invalid fails as
    its trial starts, with the spec's error: 0.6 to 1.1 ms a point here, so 10 to 20 minutes for 10⁶ points)."""
    for p in params:  # paths first: one clear line per unknown path
        try:
            paths.get(loaded.data, p.path[:-1])
            if isinstance(p.path[-1], int):
                paths.get(loaded.data, p.path)
        except paths.PathError as exc:
            raise SweepUsageError(f"{p.flag}: {p.name}: not in the spec: {exc}") from None
    size = math.prod(len(p.values) for p in params) if grid else 0
    if grid and size <= CHECK_ALL_POINTS:
        points: Iterator[tuple[Any, ...]] = itertools.product(*(p.values for p in params))
    else:
        if grid:
            values = sum(len(p.values) for p in params)
            print(
                f"checking each of the {values:,} swept values on its own; each of the "
                f"{size:,} grid points is checked as its trial starts",
                flush=True,
            )
        base = [p.probes()[0] for p in params]
        points = iter(
            [tuple(base)]
            + [(*base[:i], v, *base[i + 1 :]) for i, p in enumerate(params) for v in p.probes()]
        )
    first: Compiled | None = None
    for point in points:
        try:
            compiled = spec_with(loaded, params, point)
        except SpecError as exc:
            first_problem = exc.diagnostics[0]
            more = len(exc.diagnostics) - 1
            said = [] if first_problem.origin else [f"with {_said(_named(params, point))}"]
            said += [f"and {more} more problem(s)"] if more else []
            raise SweepUsageError(
                first_problem.text() + (f" ({'; '.join(said)})" if said else "")
            ) from None
        first = first or compiled
    assert first is not None
    return first


def _named(params: Sequence[Param], point: Sequence[Any]) -> dict[str, Any]:
    return {p.name: v for p, v in zip(params, point, strict=True)}
