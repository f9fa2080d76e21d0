"""What a sweep trains: the swept fields, their values, and one named run per combination.

``--set objective.beta=0.5,1,2,4 --set model.latent_dim=2,8`` sweeps two fields
(8 runs); a ``--set`` with one value changes every run alike. Values are
parsed as on the ``train`` command line (JSON if it parses, else text), and
a comma inside brackets belongs to the value: ``model.hidden=[256],[512,64]``
is two values.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass

from engine.config import RunConfig, parse_value
from engine.errors import ConfigError
from engine.presets import described_for_data

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass(frozen=True)
class Axis:
    """One swept field and its values, in the order given."""

    field: str
    values: tuple


@dataclass(frozen=True)
class SweepRun:
    """One combination: its ``name`` (also its file's stem), the swept ``values`` and ``config``."""

    name: str
    values: dict
    config: RunConfig

    @property
    def file_name(self) -> str:
        return f"{self.name}.h5"


def split_values(text: str) -> list[str]:
    """``"0.5,1,[2,3]"`` -> ``["0.5", "1", "[2,3]"]``: commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_assignments(items: list[str]) -> tuple[list[Axis], dict]:
    """(axes with several values, fixed field -> value) from ``FIELD=V1,V2,...`` items.

    Raises
    ------
    ConfigError
        An item without ``=``, an empty value, a field given twice, or a value repeated.
    """
    axes, fixed, seen = [], {}, set()
    for item in items:
        if "=" not in item:
            raise ConfigError(f"expects FIELD=VALUE[,VALUE...] (got {item!r})", "--set")
        field, text = (s.strip() for s in item.split("=", 1))
        if field in seen:
            raise ConfigError(f"{field} is given twice; list all its values in one --set, "
                              f"e.g. {field}=1,2", "--set")
        seen.add(field)
        raw = split_values(text)
        if any(not r for r in raw):
            raise ConfigError(f"{field} has an empty value in {text!r}", "--set")
        values = tuple(parse_value(r) for r in raw)
        keys = [json.dumps(v, sort_keys=True) for v in values]
        if len(set(keys)) != len(keys):
            raise ConfigError(f"{field} lists a value twice ({text})", "--set")
        if len(values) == 1:
            fixed[field] = values[0]
        else:
            axes.append(Axis(field, values))
    return axes, fixed


def value_words(value) -> str:
    """A value as it appears in a run's name: ``0.5``, ``256-64``, ``masking``."""
    if isinstance(value, (list, tuple)):
        return "-".join(value_words(v) for v in value) or "none"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def short_fields(axes: list[Axis]) -> dict[str, str]:
    """Each field's name in run names: its last part (``beta``), the whole path when two
    swept fields share a last part."""
    last = [a.field.rsplit(".", 1)[-1] for a in axes]
    return {a.field: (s if last.count(s) == 1 else a.field) for a, s in zip(axes, last)}


def plan_runs(base: RunConfig, axes: list[Axis]) -> list[SweepRun]:
    """Every combination of the axes' values (the first axis varies slowest), validated.

    Raises
    ------
    ConfigError
        A value a field does not accept, naming the run (its values) and the field.
    """
    if not axes:
        raise ConfigError("sweeps nothing: give at least one field several values, e.g. "
                          "--set objective.beta=0.5,1,2,4", "--set")
    short = short_fields(axes)
    runs = []
    for combo in itertools.product(*(a.values for a in axes)):
        values = {a.field: v for a, v in zip(axes, combo)}
        name = "_".join(f"{short[f]}={value_words(v)}" for f, v in values.items())
        name = _UNSAFE.sub("-", name)
        try:
            config = described_for_data(base.with_overrides(values), base)
        except ConfigError as e:
            raise ConfigError(f"{e.problem} (in the run {name})", e.field) from None
        runs.append(SweepRun(name=name, values=values, config=config))
    return runs

