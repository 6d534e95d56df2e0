"""Every private scikit-learn name sklstm relies on, in one place.

scikit-learn's own estimators declare parameter validation with these; they have been stable
since 1.3, but keeping them here means one file to fix if they move.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing  # rows of arrays, DataFrames and lists alike
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._set_output import _get_output_config  # the container set_output asks for
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "_get_output_config",
    "_safe_indexing",
    "validate_params",
]


def validate_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints`` now, as ``fit``
    does (for parameters read from a file rather than given in code)."""
    estimator._validate_params()
