"""Sphinx configuration: build with ``sphinx-build -W -b html docs docs/_build/html``."""

import os
import re
import runpy
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import sklstm  # noqa: E402

project = "sklstm"
author = "sklstm developers"
copyright = "sklstm developers"  # noqa: A001
release = version = sklstm.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_scripts", "README.md"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": False}
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"sklstm {release}"
html_theme_options = {"navigation_with_keys": False}

# The time-semantics picture is drawn from a script, so it always matches the text.
runpy.run_path(str(HERE / "_scripts" / "time_semantics_figure.py"))["draw"](
    HERE / "_static" / "time_semantics.png"
)


class ExampleGallery(Directive):
    """One section per examples/*.py script: its docstring, then its code."""

    def run(self):
        lines = []
        for script in sorted((ROOT / "examples").glob("*.py")):
            docstring = _docstring(script)
            title = script.name
            lines += [title, "-" * len(title), ""]
            lines += docstring.splitlines() + [""]
            lines += [f"Run it with ``python examples/{script.name}``.", ""]
            lines += [f".. literalinclude:: ../examples/{script.name}", "   :language: python"]
            lines += ["   :linenos:", ""]
            self.state.document.settings.record_dependencies.add(str(script))
        container = nodes.container()
        self.state.nested_parse(
            StringList(lines, source="examples"), self.content_offset, container, match_titles=True
        )
        return container.children


def _docstring(script):
    import ast

    return ast.get_docstring(ast.parse(script.read_text())) or ""


# Docstrings follow scikit-learn's conventions: fitted attributes such as n_features_in_ appear
# as bare words (a reference in reStructuredText) and :term:`fit` points to a glossary.
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\\w])([A-Za-z]\w*?)_(?=[\s,.;:)\]]|$)")


def _escape_attribute_names(app, what, name, obj, options, lines):
    in_code = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>") or stripped.startswith("..."):
            continue
        if stripped.endswith("::") or stripped.startswith(".. code"):
            in_code = True
            continue
        if in_code and stripped and not line.startswith(" "):
            in_code = False
        if not in_code:
            lines[i] = _TRAILING_UNDERSCORE.sub(r"\1\\_", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_attribute_names, priority=600)
    app.add_directive("example-gallery", ExampleGallery)
    return {"parallel_read_safe": True}
