"""YAML model files: a loader that refuses duplicate keys, a dumper that writes one line per
CPD column. Imported on first use: a preset is read from JSON, so the main job never loads
PyYAML."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

from .._errors import ModelError

__all__ = ["dump_yaml", "load_yaml"]


def load_yaml(text: str, where: str) -> Any:
    """``text`` parsed as :class:`_YamlLoader` does; a :class:`ModelError` beginning
    ``where`` for text that is not YAML, naming the line and column."""
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 -- a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ModelError(f"{where}: {exc.problem or exc.context}{at}") from None
    except yaml.YAMLError as exc:
        raise ModelError(f"{where}: {exc}") from None


def dump_yaml(data: Any, where: str) -> str:
    """A model file's data as YAML, compact (:func:`_compact`); a :class:`ModelError`
    beginning ``where`` if it cannot be written."""
    try:
        # no line wrapping: a CPD column stays on its line, however many states it has
        return yaml.dump(_compact(data), Dumper=_YamlDumper, sort_keys=False, width=2**20,
                         allow_unicode=True)
    except yaml.YAMLError as exc:
        raise ModelError(f"{where}: {exc}") from None


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``yaml.safe_load``'s loader (libyaml's when available) that refuses duplicate keys.

    PyYAML keeps the last of two equal keys, so a hand-edited file with ``male:`` twice
    would silently lose a value. Like ``SafeLoader`` it constructs no Python objects.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *anchor" merges may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Flow(dict):
    """A mapping that the model-file dumper writes on one line (flow style)."""


class _FlowList(list):
    """A list that the model-file dumper writes on one line (flow style)."""


class _YamlDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """``yaml.safe_dump``'s dumper (libyaml's when available: 10x faster) that writes
    :class:`_Flow` mappings and :class:`_FlowList` lists on one line each."""


_YamlDumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data, flow_style=True))
_YamlDumper.add_representer(_FlowList, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=True))


def _compact(data: Any) -> Any:
    """The model file's data with one line per CPD column and per small entry.

    Mappings and lists that hold no mapping or list (a root's CPD, a diagnosis's code and
    category, a list of states) are written on one line; so is each CPD column, ``{given:
    {...}, p: {...}}``: a model file reads as a table, not 3,000 block-style lines.
    """
    if isinstance(data, dict):
        if set(data) == {"given", "p"}:
            return _Flow(given=_Flow(data["given"]), p=_Flow(data["p"]))
        leaf = not any(isinstance(v, (dict, list)) for v in data.values())
        return _Flow(data) if leaf and data else {k: _compact(v) for k, v in data.items()}
    if isinstance(data, list):
        leaf = not any(isinstance(v, (dict, list)) for v in data)
        return _FlowList(data) if leaf else [_compact(v) for v in data]
    return data
