"""Write docs/api/*.rst: one page per package listing every name of its ``__all__``.

Run from the repository root after a package's ``__all__`` changes (``python
tools/api_pages.py``); tests/test_docs.py fails when the pages and ``__all__`` disagree. A
subpackage name that is the same object as a facade name (``clinicsim.model.ClinicModel``
is ``clinicsim.ClinicModel``) is documented once, under the facade, and linked from the
subpackage's page.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "clinicsim": "The facade: what most users need, importable from ``clinicsim`` itself.",
    "clinicsim.model": "The network: CPDs, metadata, target statements, exact inference, "
                       "fitting and model files.",
    "clinicsim.simulate": "Records from a model: the engines, streaming writers and the "
                          "Dask path.",
    "clinicsim.analysis": "The conformance report: records checked against the stated "
                          "targets and the model. Loaded on first use.",
    "clinicsim.fhir": "The records as HL7 FHIR R4: Bulk Data NDJSON or a transaction Bundle, "
                      "and back. Loaded on first use.",
    "clinicsim.db": "Records in databases: typed tables in DuckDB and SQLite files, "
                    "PostgreSQL through COPY, and back. Drivers loaded on first use.",
}
KINDS = ("Functions", "Classes", "Exceptions and warnings", "Constants")


def kind(obj: object) -> str | None:
    if inspect.ismodule(obj):
        return None  # a subpackage has its own page
    if inspect.isclass(obj):
        return "Exceptions and warnings" if issubclass(obj, BaseException | Warning) else "Classes"
    return "Functions" if callable(obj) else "Constants"


def page(package: str) -> str:
    import clinicsim

    module = importlib.import_module(package)
    facade = {id(getattr(clinicsim, n)): n for n in clinicsim.__all__}
    groups: dict[str, list[str]] = {k: [] for k in KINDS}
    linked: list[str] = []
    for name in module.__all__:
        obj = getattr(module, name)
        if package != "clinicsim" and id(obj) in facade and kind(obj) != "Constants":
            linked.append(f":obj:`{name} <clinicsim.{facade[id(obj)]}>`")
            continue
        k = kind(obj)
        if k is not None:
            groups[k].append(name)
    title = f"``{package}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {package}", "   :no-members:", "",
             PACKAGES[package], "", f".. currentmodule:: {package}", ""]
    for k, names in groups.items():
        if names:
            lines += [k, "-" * len(k), "", ".. autosummary::", "   :toctree: generated", "",
                      *(f"   {n}" for n in names), ""]
    if linked:
        lines += ["Also here", "---------", "",
                  "The same objects as the facade's: " + ", ".join(linked) + ".", ""]
    if package == "clinicsim":
        lines += ["Subpackages", "-----------", "",
                  ":doc:`model`, :doc:`simulate`, :doc:`analysis` and :doc:`fhir`; "
                  "``clinicsim.analysis`` and ``clinicsim.fhir`` (also in ``__all__``) are "
                  "imported on first use, so ``import clinicsim`` stays light.", ""]
    return "\n".join(lines)


def main() -> None:
    out = ROOT / "docs" / "api"
    out.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        (out / f"{package.removeprefix('clinicsim.')}.rst").write_text(page(package))


if __name__ == "__main__":
    main()
