"""Sphinx configuration for the clinicsim documentation.

Built with warnings and broken cross-references as errors by tests/test_docs.py:
``sphinx-build -W --keep-going -n -b html docs build/docs``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the sources beside these pages, not an older install

import clinicsim  # noqa: E402

project = "clinicsim"
author = "the clinicsim authors"
copyright = "2026, the clinicsim authors"
version = release = clinicsim.__version__

extensions = [
    "myst_parser",                 # the guide is Markdown
    "sphinx.ext.autodoc",          # the API reference, from the docstrings
    "sphinx.ext.autosummary",
    "numpydoc",                    # the docstrings are numpydoc
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "build"]
templates_path = ["_templates"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False   # the class template lists the members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -n: every cross-reference must resolve. References into other projects (numpy, pandas,
# the standard library) would need intersphinx, which downloads their inventories at build
# time; the build stays offline and only clinicsim's own names are required to resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pandas|pd|pyarrow|pa|dask|distributed|pathlib|os|typing|"
               r"collections|datetime|fractions|decimal|warnings|enum)(\..*)?"),
    (r"py:class", r"(Path|DataFrame|Series|Generator|SeedSequence|Any|Iterable|Iterator|"
                  r"Mapping|Sequence|Callable|Hashable|Literal|PathLike|NDArray|ndarray|"
                  r"MultiIndex|Index|Timestamp|date|Fraction|Decimal)"),
    (r"py:(class|obj|data)", r"(int|float|str|bool|bytes|tuple|list|dict|set|frozenset|"
                             r"object|None|type|optional|callable|iterable|mapping)"),
    # pgmpy objects (model.network) are pgmpy's to document
    (r"py:.*", r"(pgmpy\.)?DiscreteBayesianNetwork|pgmpy(\..*)?"),
    # private names in signatures and docstrings (a type alias, a private helper class or
    # module): not part of the API, so not documented; a public name must resolve
    (r"py:.*", r"clinicsim(\.\w+)*\._\w+(\.\w+)*|_\w+|SeedLike|ReportFigures"),
]

html_theme = "pydata_sphinx_theme"
html_title = "clinicsim"
html_static_path = ["_static"]
html_css_files = ["clinicsim.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
# The guide's pages are one level, so the left sidebar would be empty on them: only the API
# reference, which has sections, keeps it.
html_sidebars = {"*": [], "api/**": ["sidebar-nav-bs"]}


# Docstrings name public objects by their short name (``:class:`ModelError```, a numpydoc
# ``Raises`` entry); resolve a short name that is exactly one public name of clinicsim to it.
# Anything else still has to resolve, or the build fails (-n -W).
def _public_names() -> dict[str, str]:
    import importlib

    names: dict[str, str] = {}
    for package in ("clinicsim", "clinicsim.model", "clinicsim.simulate", "clinicsim.analysis",
                    "clinicsim.fhir"):
        module = importlib.import_module(package)
        facade = {id(getattr(clinicsim, n)): n for n in clinicsim.__all__}
        for name in module.__all__:
            obj = getattr(module, name)
            full = f"clinicsim.{facade[id(obj)]}" if id(obj) in facade else f"{package}.{name}"
            names.setdefault(name, full)
    return names


def _resolve_short_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~")
    head, dot, rest = target.partition(".")
    if target.startswith("clinicsim."):
        full = _PUBLIC.get(target.rsplit(".", 1)[-1])
    elif head in _PUBLIC:
        full = _PUBLIC[head] + dot + rest       # ClinicModel.content_key
    else:
        full = None
    if full is None or full == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], full, node,
                               contnode)


_PUBLIC = _public_names()


def setup(app):
    app.connect("missing-reference", _resolve_short_name)
