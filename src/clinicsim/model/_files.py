"""Model files and presets: YAML/JSON (ours, with metadata and targets) and BIF/XMLBIF.

Loading never executes anything from a file (``yaml.safe_load``) and every problem in a
file is gathered into one :class:`ModelError` whose ``errors`` name node, column and value
(the schema is checked in ``_schema.py``). BIF/XMLBIF go through the pgmpy adapter,
``clinicsim._pgmpy``, imported only for those suffixes.
"""

from __future__ import annotations

import functools
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import ArgumentError, ModelError
from .._io import atomic_path, check_name, input_file
from .._text import model_text_errors
from .._validate import check_path, shown
from ._limits import MAX_DEPTH
from ._model import ClinicModel
from ._schema import model_from_dict, model_to_dict
from ._treatments import UNCODED

__all__ = ["MODEL_SUFFIXES", "PRESETS", "default_model", "load_model", "save_model",
           "shared_default_model"]

# Each preset is data/<file>.yaml (the data with its reasons, written by
# tools/build_default_model.py) and its JSON twin, which is what is loaded: json.loads takes
# about 2 ms where PyYAML takes 40 ms or more, on every start of the command.
PRESETS = {"default": "default.yaml", "us-office-visits": "us_office_visits.yaml"}
# The default model is 70 kB; PyYAML needs about 1 s and 40 MB per MiB, so 4 MiB leaves
# room for big hand-made models while a stray 100 MB file is refused before it is read.
MAX_FILE_BYTES = 4 * 2**20
SUFFIXES = (".yaml", ".yml", ".json", ".bif", ".xmlbif")
MODEL_SUFFIXES = SUFFIXES  # for the command line: model files it reads and writes


def default_model() -> ClinicModel:
    """The brief's clinic: the model shipped in ``clinicsim/model/data/default.yaml`` (read
    from its JSON twin).

    Examples
    --------
    >>> import clinicsim
    >>> model = clinicsim.default_model()
    >>> model.name, len(model.states("diagnosis")), len(model.states("treatment"))
    ('default', 16, 13)
    """
    return load_model("default")


@functools.cache
def shared_default_model() -> ClinicModel:
    """The default model, parsed once, for code that only reads it (samplers copy it)."""
    return default_model()


def as_model(model: object) -> ClinicModel:
    """A ``model=`` argument as a model: None is the default, a str or path is loaded
    (a preset name or a model file); anything else is an :class:`ArgumentError`.

    Examples
    --------
    >>> from clinicsim.model import as_model
    >>> as_model(None).name, as_model("us-office-visits").name
    ('default', 'us-office-visits')
    """
    if model is None:
        return shared_default_model()
    if isinstance(model, ClinicModel):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    raise ArgumentError("`model` must be a ClinicModel, a preset name or a model file path; "
                        f"got {shown(model)}")


def load_model(source: str | os.PathLike[str]) -> ClinicModel:
    """Load a model from a file (by suffix) or a preset name.

    ``.yaml``/``.yml``/``.json`` are clinicsim model files; ``.bif``/``.xmlbif`` are read
    through pgmpy and take the default model's metadata and targets. A string that is a
    preset name is always the preset, never a file in the working directory: ``"default"``
    (the brief's clinic) or ``"us-office-visits"`` (the same clinic with NAMCS 2019
    primary-care ages and sexes). Model files are named with their suffix.

    Examples
    --------
    >>> import clinicsim
    >>> office = clinicsim.load_model("us-office-visits")
    >>> office.name, round(float(office.marginal("gender")["female"]), 4)
    ('us-office-visits', 0.5747)
    >>> clinicsim.default_model().save("m.json")
    >>> clinicsim.load_model("m.json").name
    'default'
    """
    if not isinstance(source, (str, os.PathLike)):
        raise ModelError(f"model file path must be a str or os.PathLike; got {source!r}")
    check_path(source, "source")
    if isinstance(source, str) and source in PRESETS:
        # Always the preset, whatever the working directory holds: a model file has a
        # suffix, so a file or folder named 'default' can never be one.
        twin = PRESETS[source].removesuffix(".yaml") + ".json"
        text = resources.files(__package__).joinpath("data", twin).read_text(encoding="utf-8")
        return model_from_dict(json.loads(text), source=f"preset {source!r}", evaluate=False)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)} or a preset {sorted(PRESETS)}")
    input_file(path, "model file", MAX_FILE_BYTES, ModelError)
    if suffix in (".bif", ".xmlbif"):
        return _load_pgmpy(path, suffix)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ModelError(f"cannot read model file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"cannot parse model file {str(path)!r}: not UTF-8 text "
                         f"(byte {exc.start})") from None
    try:
        if suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_object)
        else:
            from ._yaml import load_yaml  # PyYAML loads only for a YAML file

            data = load_yaml(text, f"cannot parse model file {str(path)!r}")
    except ModelError:  # load_yaml's own, naming the line
        raise
    except ValueError as exc:
        raise ModelError(f"cannot parse model file {str(path)!r}: {exc}") from None
    except RecursionError:
        raise ModelError(f"cannot parse model file {str(path)!r}: nested too deep; the limit "
                         f"is MAX_DEPTH = {MAX_DEPTH}") from None
    return model_from_dict(data, source=str(path))


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):  # linear: a quadratic count took minutes for 300,000 keys
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {twice!r}")
    return data


def save_model(model: ClinicModel, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` by suffix, atomically.

    The whole file is rendered in memory first, so a model that cannot be written in the
    format is refused before anything touches the disk.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"model file path must be a str or os.PathLike; got {path!r}")
    target = check_name(check_path(path, "path"), "model file", ModelError)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{str(path)!r}: unknown model format {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SUFFIXES)}")
    if target.is_dir():
        raise ModelError(f"cannot write model file {str(path)!r}: it is a folder")
    data = model_to_dict(model)
    # A model's text was checked when it was made; its name and description may have been
    # set since, and no file could be read back with text that is not valid Unicode.
    bad = model_text_errors(data)
    if bad:
        raise ModelError([f"cannot write model file {str(path)!r}: {e}" for e in bad])
    if suffix in (".bif", ".xmlbif"):
        from .._pgmpy import write_text

        text = write_text(model, suffix, str(path))
    elif suffix == ".json":
        try:
            text = json.dumps(data, indent=1, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise ModelError(f"cannot write {str(path)!r} as JSON: {exc}") from None
    else:
        from ._yaml import dump_yaml

        text = dump_yaml(data, f"cannot write {str(path)!r} as YAML")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:  # never write a file that load_model refuses
        raise ModelError(f"cannot write model file {str(path)!r}: it would be {size:,} bytes, "
                         f"and load_model reads at most {MAX_FILE_BYTES:,} (MAX_FILE_BYTES)")
    with atomic_path(path, what="model file", error=ModelError) as tmp:
        tmp.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------
# BIF / XMLBIF: the network from the file (through pgmpy), metadata and targets from the
# default model.

_BAND = re.compile(r"^(\d+)\D+(\d+)$")


def _load_pgmpy(path: Path, suffix: str) -> ClinicModel:
    from .._pgmpy import read_nodes

    kind = suffix[1:].upper()
    nodes = read_nodes(path, suffix)
    defaults = model_to_dict(default_model())
    meta = defaults["metadata"]
    bands = {}
    for band in nodes.get("age_group", {}).get("states", []):
        match = _BAND.match(band)
        bands[band] = [int(match[1]), int(match[2])] if match else band
    meta["age_bands"] = bands
    other = {"code": "R69", "category": "other"}  # R69: illness, unspecified
    meta["diagnoses"] = {d: meta["diagnoses"].get(d, other)
                         for d in nodes.get("diagnosis", {}).get("states", [])}
    meta["treatments"] = {t: meta["treatments"].get(t, UNCODED)
                          for t in nodes.get("treatment", {}).get("states", [])}
    try:
        return model_from_dict(
            {**defaults, "name": path.stem, "description": f"read from {path.name}",
             "nodes": nodes},
            source=str(path),
        )
    except ModelError as exc:
        if any("metadata" in e or "targets" in e for e in exc.errors):
            exc.errors.append(f"{str(path)}: a {kind} file holds the network only; metadata and "
                              "targets come from the default model, so its states must match "
                              "(or save the model as .yaml)")
            raise ModelError(exc.errors) from None
        raise
