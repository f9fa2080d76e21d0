"""Each setting described once: a dataclass field with its words, bounds and choices.

A settings dataclass (a section of :class:`~engine.config.RunConfig`, a
family's settings beside its model, a lesson file's fields) declares each
field with :func:`setting`::

    latent_dim: int = setting(20, lo=1, hi=8192, label="Latent size", form="Architecture",
                              help="Dimensions of the code (2 draws the map directly)")

From that one description come the parsing of a JSON object into the
dataclass (:func:`from_dict`: unknown keys refused with "did you mean"),
the checks of every value (:func:`check_fields`: a
:class:`~engine.errors.ConfigError` whose ``field`` names it) and the
settings form (``gui.forms`` builds a widget per field from ``label``,
``help``, ``choices`` and the field's type). Rules *between* fields stay
code, in :mod:`engine.validation` or the settings class's ``check_run``.

Metadata keys: ``label``, ``help``, ``placeholder`` (the form's words);
``form`` (the form group that shows it; none: not in the form); ``lo``,
``hi``, ``lo_open`` (bounds of a number, of a tuple's items); ``max_len``;
``choices`` (allowed values, or a dict value -> text shown); ``must`` (the
"must be ..." phrase when the generic one would say it worse); ``check``
(False: no generic check, the field's rule is code); ``kind``, ``needs``,
``off``, ``on``, ``kind_help`` (an autoencoder kind the field switches on,
see ``RunConfig.kinds``); ``when``, ``unless`` (``{path: values}``: the
form shows the field only then); ``widget`` (a form widget other than the
type's own: ``path``, ``drawing``, ``device``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
import typing
from dataclasses import MISSING, dataclass
from typing import Any

from engine.errors import ConfigError


def setting(default: Any = MISSING, *, factory: Any = MISSING, **meta: Any) -> Any:
    """A dataclass field with its description in ``metadata`` (keys: module docstring)."""
    return dataclasses.field(default=default, default_factory=factory, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """One described field: its name, type and metadata.

    ``kind`` is the value's type (``int``, ``float``, ``bool``, ``str``,
    ``tuple``, ``dict`` or a dataclass), ``item`` a tuple's item type,
    ``optional`` whether None is allowed.
    """

    name: str
    kind: Any
    item: Any
    optional: bool
    default: Any
    meta: types.MappingProxyType

    def get(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)

    @property
    def label(self) -> str:
        return self.meta.get("label") or self.name.replace("_", " ").capitalize()

    @property
    def choices(self) -> tuple:
        """The allowed values (empty: any of the type)."""
        return tuple(self.meta.get("choices", ()))

    def choice_text(self, value: Any) -> str:
        c = self.meta.get("choices")
        return c.get(value, str(value)) if isinstance(c, dict) else str(value)


@functools.cache
def described(cls: type) -> tuple[FieldInfo, ...]:
    """The fields of dataclass ``cls`` in declaration order, with their types resolved."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind, item, optional = _parse_type(hints[f.name])
        default = (f.default if f.default is not MISSING
                   else f.default_factory() if f.default_factory is not MISSING else MISSING)
        out.append(FieldInfo(f.name, kind, item, optional, default, f.metadata))
    return tuple(out)


def info(cls: type, name: str) -> FieldInfo:
    for fi in described(cls):
        if fi.name == name:
            return fi
    raise KeyError(name)


def _parse_type(tp: Any) -> tuple[Any, Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        kind, item, _ = _parse_type(rest[0])
        return kind, item, len(rest) < len(args)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return tuple, args[0] if args else Any, False
    if origin is dict:
        return dict, None, False
    return tp, None, False


# -- checks ----------------------------------------------------------------------------

def check(ok: bool, field: str, allowed: str, value: Any) -> None:
    """Raise ``ConfigError(field, "must be <allowed> (got <value>)")`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"must be {allowed} (got {value!r})", field)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def choice(v: Any, field: str, options: tuple) -> None:
    check(v in options, field, "one of " + ", ".join(map(str, options)), v)


def int_in(v: Any, field: str, lo: int, hi: int | None = None, must: str = "") -> None:
    rng = must or (f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}")
    check(is_int(v) and v >= lo and (hi is None or v <= hi), field, rng, v)


def num_in(v: Any, field: str, lo: float, hi: float | None = None,
           lo_open: bool = False) -> None:
    ok = (is_num(v) and not math.isnan(v) and (v > lo if lo_open else v >= lo)
          and (hi is None or v <= hi))
    low = f"> {lo}" if lo_open else f">= {lo}"
    check(ok, field, f"a number {low}" + (f" and <= {hi}" if hi is not None else ""), v)


def check_value(fi: FieldInfo, value: Any, where: str) -> None:
    """Check one value against its field's type and metadata; ConfigError at ``where``."""
    if value is None and fi.optional:
        return
    must = fi.get("must", "")
    if fi.kind is tuple:
        n = fi.get("max_len")
        check(isinstance(value, (tuple, list)) and (n is None or len(value) <= n), where,
              must or "a list" + (f" of at most {n} items" if n is not None else ""), value)
        for i, v in enumerate(value):
            _check_one(fi, fi.item, v, f"{where}[{i}]", "")
    else:
        _check_one(fi, fi.kind, value, where, must)


def _check_one(fi: FieldInfo, kind: Any, value: Any, where: str, must: str) -> None:
    if fi.choices:
        check(value in fi.choices, where,
              must or "one of " + ", ".join(map(str, fi.choices)), value)
    elif kind is bool:
        check(isinstance(value, bool), where, must or "true or false", value)
    elif kind is int:
        int_in(value, where, fi.get("lo", 0), fi.get("hi"), must)
    elif kind is float:
        num_in(value, where, fi.get("lo", 0.0), fi.get("hi"), fi.get("lo_open", False))
    elif kind is str:
        check(isinstance(value, str), where, must or "a string", value)


def check_fields(obj: Any, prefix: str = "") -> None:
    """Every field of dataclass instance ``obj`` against its description (``check`` not False)."""
    for fi in described(type(obj)):
        if fi.get("check", True) and not dataclasses.is_dataclass(fi.kind):
            check_value(fi, getattr(obj, fi.name), f"{prefix}{fi.name}")


# -- parsing ---------------------------------------------------------------------------

def did_you_mean(name: str, allowed: list[str]) -> str:
    """``"; did you mean a, b?"`` with the closest of ``allowed``, or ``""``."""
    close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def unknown_field(name: str, allowed: list[str]) -> ConfigError:
    """'unknown config field', with the closest known names first."""
    listing = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
    return ConfigError(f"unknown config field '{name}'{did_you_mean(name, allowed)}{listing}")


def from_dict(cls: type, value: Any, prefix: str = "") -> Any:
    """An instance of dataclass ``cls`` from a JSON object (not checked beyond its keys).

    Lists become tuples for tuple fields; an unknown key raises
    :func:`unknown_field` naming ``prefix + key``.
    """
    if not isinstance(value, dict):
        raise ConfigError(f"must be a JSON object (got {value!r})", prefix.rstrip("."))
    fis = {fi.name: fi for fi in described(cls)}
    kwargs = {}
    for key, v in value.items():
        fi = fis.get(key)
        if fi is None:
            raise unknown_field(f"{prefix}{key}", [f"{prefix}{a}" for a in fis])
        if fi.kind is tuple and v is not None:
            if not isinstance(v, (list, tuple)):
                raise ConfigError(f"must be a list (got {v!r})", f"{prefix}{key}")
            v = tuple(v)
        elif dataclasses.is_dataclass(fi.kind) and v is not None:
            v = from_dict(fi.kind, v, f"{prefix}{key}.")
        kwargs[key] = v
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` with tuples as lists (as JSON holds them)."""
    d = dataclasses.asdict(obj)

    def lists(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: lists(v) for k, v in x.items()}
        return [lists(v) for v in x] if isinstance(x, (tuple, list)) else x
    return lists(d)
