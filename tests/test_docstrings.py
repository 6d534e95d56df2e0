"""numpydoc's validation of every public docstring, as scikit-learn's test_docstrings.py does.

Checked: every class and function in ``sklstm.__all__``, the public methods that sklstm's
classes define (those inherited from scikit-learn, such as ``get_params``, are documented
there), and every function of ``sklstm.datasets`` and ``sklstm.plotting``. A failure prints
the docstring and numpydoc's errors; ``python -m numpydoc.validate sklstm.plotting.plot_forecast``
(any public path) checks one object by hand.
"""

import inspect

import pytest
from numpydoc import validate as numpydoc_validation

import sklstm
from sklstm import datasets, plotting

# Codes ignored everywhere, with scikit-learn's reason.
IGNORED = {
    # The first line of Returns may name what is returned ("self : LSTMForecaster"), not only
    # its type.
    "RT02",
}
# Codes checked on classes and functions but not on methods: a method is explained by its
# class's extended summary, See Also and Examples (scikit-learn ignores the same three).
IGNORED_FOR_METHODS = {"ES01", "SA01", "EX01"}


def _defined_in_sklstm(member):
    """Whether a class attribute is a public method or property that sklstm itself defines."""
    func = member.fget if isinstance(member, property) else member
    func = getattr(func, "__func__", func)  # classmethod, staticmethod
    func = getattr(func, "fn", func)  # scikit-learn's available_if descriptor
    if not (callable(func) or isinstance(member, property)):
        return False
    return (getattr(func, "__module__", None) or "").startswith("sklstm")


def _public_objects():
    """(public name, import path, is a method) of every docstring to check."""
    found = []
    for name in sklstm.__all__:
        obj = getattr(sklstm, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue  # sklstm.plotting is checked function by function; __version__ is a str
        path = f"{obj.__module__}.{obj.__qualname__}"
        found.append((f"sklstm.{name}", path, False))
        if inspect.isclass(obj):
            for attr in sorted(dir(obj)):
                if not attr.startswith("_") and _defined_in_sklstm(
                    inspect.getattr_static(obj, attr)
                ):
                    found.append((f"sklstm.{name}.{attr}", f"{path}.{attr}", True))
    for module in (datasets, plotting):
        for name in module.__all__:
            found.append((f"{module.__name__}.{name}", f"{module.__name__}.{name}", False))
    return found


PUBLIC = _public_objects()


def _errors(path, is_method):
    result = numpydoc_validation.validate(path)
    ignored = IGNORED | (IGNORED_FOR_METHODS if is_method else set())
    return result, [(code, message) for code, message in result["errors"] if code not in ignored]


@pytest.mark.parametrize(("name", "path", "is_method"), PUBLIC, ids=[p[0] for p in PUBLIC])
def test_docstring(name, path, is_method):
    result, errors = _errors(path, is_method)
    if errors:
        listed = "\n".join(f" - {code}: {message}" for code, message in errors)
        pytest.fail(
            f"{name} ({result['file']}:{result['file_line']}) fails numpydoc's validation:\n"
            f"{listed}\n\nThe docstring:\n{result['docstring']}",
            pytrace=False,
        )


def test_every_public_name_is_checked():
    # The lists above come from __all__: a public object missing from them goes unchecked.
    checked = {name for name, _, _ in PUBLIC}
    for module in (datasets, plotting):
        assert {
            f"{module.__name__}.{n}" for n in dir(module) if n.startswith(("load_", "plot_"))
        } <= checked
    assert {"sklstm.LSTMForecaster.fit", "sklstm.LSTMSearchCV.fit"} <= checked
