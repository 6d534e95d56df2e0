"""Every private scikit-learn name sklstm relies on, in one place.

scikit-learn's own estimators declare parameter validation with these; they have been stable
since 1.3, but keeping them here means one file to fix if they move.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in

__all__ = ["Interval", "StrOptions", "_check_feature_names_in", "_fit_context"]
