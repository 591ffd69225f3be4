"""spinfit from Python: pump-probe fits of halide-perovskite spin dynamics.

Every number is computed by spinfit's Rust library (the same code as the
``spinfit`` command line); this package converts NumPy arrays in and
results out. Units: delays in ps, fields in T, omega in rad/ns.

    >>> import numpy as np, spinfit
    >>> r = spinfit.fit_tr(delay_ps, sc=sc, cc=cc)
    >>> r.params["tau"].value, r.params["tau"].stderr, r.params["tau"].unit
    >>> print(r.report())

Errors: ``ValueError`` for bad input or settings, ``spinfit.FitError`` for
a fit that failed; the messages are the command line's.
"""
import json as _json

import numpy as _np

from ._spinfit import FitError, __version__
from . import _spinfit

__all__ = ["fit_tr", "fit_trfe", "FitResult", "Param", "FitError", "__version__"]


def _array(name, a):
    if a is None:
        return None
    arr = _np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if not _np.issubdtype(arr.dtype, _np.number) or _np.iscomplexobj(arr):
        raise ValueError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    return _np.ascontiguousarray(arr, dtype=_np.float64)


class Param:
    """One fitted parameter: value, stderr (None when undetermined), unit,
    whether it varied, and its bounds."""

    __slots__ = ("name", "value", "stderr", "unit", "vary", "min", "max")

    def __init__(self, d):
        self.name = d.get("name")
        self.value = d.get("value")
        self.stderr = d.get("stderr")
        self.unit = d.get("unit", "")
        self.vary = d.get("vary", True)
        self.min = d.get("min")
        self.max = d.get("max")

    def __repr__(self):
        err = "fixed" if self.stderr is None else f"+/- {self.stderr:.3g}"
        return f"<Param {self.name} = {self.value:.6g} {err} {self.unit}>"


class FitResult:
    """A fit: ``params`` (name -> Param), ``success``, ``best_fit`` and
    ``residual`` (best fit - data) at the fitted delays (``delay``,
    ``data``), ``results`` (derived quantities with units), ``report()``,
    ``to_dict()`` (the ``spinfit.fit/1`` JSON the command line writes)."""

    def __init__(self, text, delay, data, best_fit, residual):
        self._d = _json.loads(text)
        self.delay, self.data, self.best_fit, self.residual = delay, data, best_fit, residual
        self.params = {k: Param(dict(v, name=k)) for k, v in self._d.get("parameters", {}).items()}
        self.success = bool(self._d.get("success", False))
        #: the derived results (lifetimes with tau and rate, or per-carrier
        #: omega, T2*, g), each a dict with value, stderr and unit
        self.results = self._d.get("results", {})

    def to_dict(self):
        return _json.loads(_json.dumps(self._d))

    def report(self):
        """Text in lmfit's layout: fit statistics, then every parameter."""
        st = self._d.get("statistics", {})
        lines = [f"[[Model]] {self._d.get('model', '')}",
                 "[[Fit Statistics]]",
                 f"    success            = {self.success}",
                 f"    function evals     = {st.get('nfev')}",
                 f"    data points        = {st.get('ndata')}",
                 f"    variables          = {st.get('nvarys')}",
                 f"    chi-square         = {st.get('chisqr')}",
                 f"    reduced chi-square = {st.get('redchi')}",
                 f"    Akaike info crit   = {st.get('aic')}",
                 f"    Bayesian info crit = {st.get('bic')}",
                 "[[Variables]]"]
        for p in self.params.values():
            err = "(fixed)" if p.stderr is None else f"+/- {p.stderr:.6g}"
            lines.append(f"    {p.name:12} = {p.value:.6g} {err} {p.unit}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{p.name}</td><td>{p.value:.6g}</td><td>"
            f"{'' if p.stderr is None else f'{p.stderr:.3g}'}</td><td>{p.unit}</td></tr>"
            for p in self.params.values())
        return (f"<b>spinfit fit</b> ({'converged' if self.success else 'NOT converged'})"
                f"<table><tr><th>parameter</th><th>value</th><th>stderr</th><th>unit</th></tr>{rows}</table>")

    def __repr__(self):
        return f"<FitResult success={self.success} params={list(self.params)}>"


def fit_tr(delay_ps, sc=None, cc=None, signal=None, *, exponentials=1, fit_from_ps=None, fit_to_ps=None):
    """Fit a spin-resolved transient-reflection trace: exponential spin
    decay(s) convolved with the instrument response. Give the co- and
    counter-circular channels (``sc``, ``cc``; the fitted signal is SC - CC)
    or ``signal``. Delays in ps. The GIL is released while fitting."""
    return FitResult(*_spinfit._fit_tr(
        _array("delay_ps", delay_ps), _array("sc", sc), _array("cc", cc), _array("signal", signal),
        int(exponentials), fit_from_ps, fit_to_ps))


def fit_trfe(delay_ps, signal, field_T, *, components="auto", fit_from_ps=None, fit_to_ps=None):
    """Fit a TRFE/TRKR trace in a transverse field ``field_T`` (tesla): one
    or two damped cosines (``components`` "1", "2" or "auto"). Delays in ps.
    The GIL is released while fitting."""
    return FitResult(*_spinfit._fit_trfe(
        _array("delay_ps", delay_ps), _array("signal", signal), float(field_T),
        str(components), fit_from_ps, fit_to_ps))
