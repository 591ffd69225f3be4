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

__all__ = ["read_scan", "read_scans", "Scan", "fit_tr", "fit_trfe", "gfactor", "append", "ml_cv",
           "predict", "dataset_import",
           "FitResult", "Param", "FitError", "__version__"]


def _ps(name, v):
    """A time in ps: a number (ps) or a string with units ("50ps", "1.2 ns")."""
    if v is None or isinstance(v, (int, float)):
        return None if v is None else float(v)
    if isinstance(v, str):
        return _spinfit._time_ps(v)
    raise ValueError(f"{name}: expected a number of ps or a string such as '50ps', got {v!r}")


def _tesla(name, v):
    """A field in T: a number (T) or a string with units ("200mT")."""
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return _spinfit._field_t(v)
    raise ValueError(f"{name}: expected a number of T or a string such as '200mT', got {v!r}")


class Scan:
    """One trace as spinfit reads it: ``delay`` (ps), ``signal`` (for TR the
    SC - CC difference), ``sc`` and ``cc`` when the file has them, the
    ``metadata`` dict of the file's header, ``source`` and ``kind``."""

    def __init__(self, source, kind, signal_name, delay, signal, channels, metadata):
        self.source, self.kind, self.signal_name = source, kind, signal_name
        self.delay, self.signal = delay, signal
        self.sc, self.cc = channels if channels is not None else (None, None)
        self.metadata = dict(metadata)

    def fit(self, **options):
        """Fit this trace: ``fit_tr`` for TR (SC and CC when present), else
        ``fit_trfe`` with the field from ``field_T=`` or the metadata."""
        # the file and its header travel with the fit (provenance, the
        # SYNTHETIC mark of simulated data)
        origin = (self.source, self.metadata)
        if self.kind == "tr":
            if self.sc is not None:
                return fit_tr(self.delay, sc=self.sc, cc=self.cc, _origin=origin, **options)
            return fit_tr(self.delay, signal=self.signal, _origin=origin, **options)
        field = options.pop("field_T", None) or self.metadata.get("field")
        if field is None:
            raise ValueError(f"{self.source}: no field in the metadata; give field_T=")
        return fit_trfe(self.delay, self.signal, field, _origin=origin, **options)

    def __repr__(self):
        return f"<Scan {self.source} {self.kind} {len(self.delay)} points, signal {self.signal_name}>"


def read_scans(path, *, kind="tr", delay=None, signal=None, sc=None, cc=None,
               delay_unit=None, band=None, layout=None):
    """Every trace in a file (CSV/TSV/text, HDF5, 2-D maps reduced over
    ``band``), read by the same code and with the same options as the command
    line: column names or 1-based numbers for ``delay``, ``signal``, ``sc``,
    ``cc``; ``delay_unit`` such as "ns"; ``band`` such as "560nm:570nm";
    ``layout`` of a matrix map."""
    path = str(path)
    opt = lambda v: None if v is None else str(v)
    return [Scan(*t) for t in _spinfit._read_scans(
        path, kind, opt(delay), opt(signal), opt(sc), opt(cc), opt(delay_unit), opt(band), opt(layout))]


def read_scan(path, **options):
    """The one trace in a file (see ``read_scans``); a ValueError when it
    holds several."""
    scans = read_scans(path, **options)
    if len(scans) != 1:
        raise ValueError(f"{path}: {len(scans)} traces; use read_scans")
    return scans[0]


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


def fit_tr(delay_ps, sc=None, cc=None, signal=None, *, exponentials=1, fit_from_ps=None, fit_to_ps=None,
           _origin=(None, None)):
    """Fit a spin-resolved transient-reflection trace: exponential spin
    decay(s) convolved with the instrument response. Give the co- and
    counter-circular channels (``sc``, ``cc``; the fitted signal is SC - CC)
    or ``signal``. Delays in ps; the window ``fit_from_ps``/``fit_to_ps`` in
    ps or as strings with units ("2ps"). The GIL is released while fitting."""
    return FitResult(*_spinfit._fit_tr(
        _array("delay_ps", delay_ps), _array("sc", sc), _array("cc", cc), _array("signal", signal),
        int(exponentials), _ps("fit_from_ps", fit_from_ps), _ps("fit_to_ps", fit_to_ps), _origin))


def fit_trfe(delay_ps, signal, field_T, *, components="auto", fit_from_ps=None, fit_to_ps=None,
             _origin=(None, None)):
    """Fit a TRFE/TRKR trace in a transverse field ``field_T`` (tesla, or a
    string such as "200mT"): one
    or two damped cosines (``components`` "1", "2" or "auto"). Delays in ps.
    The GIL is released while fitting."""
    return FitResult(*_spinfit._fit_trfe(
        _array("delay_ps", delay_ps), _array("signal", signal), _tesla("field_T", field_T),
        str(components), _ps("fit_from_ps", fit_from_ps), _ps("fit_to_ps", fit_to_ps), _origin))


def gfactor(paths, *, min_field="100mT", larger="electron", single="hole", global_fit=False):
    """A TRFE field series (files or folders; the field of each trace from
    its header or file name, e.g. ``_420mT``): every trace fitted, then per
    carrier |g| from omega_L(B) = |g| mu_B B / hbar and dg from
    1/T2*(B) = 1/T2*(0) + dg mu_B B / (sqrt(2) hbar). Traces below
    ``min_field`` are fitted but left out of the slopes; ``larger`` names the
    faster-precessing carrier, ``single`` the carrier of one-component
    traces; ``global_fit`` also fits all traces at once. Returns the
    ``spinfit.gfactor/1`` dict the command line prints."""
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    return _json.loads(_spinfit._gfactor([str(p) for p in paths], _tesla("min_field", min_field),
                                         larger, single, bool(global_fit)))


def append(dataset, fit, compound, *, date=None, allow_synthetic=False):
    """Append the lifetime of a single-exponential TR ``fit`` (a FitResult)
    to the descriptor ``dataset`` (CSV of ``spinfit dataset import``) for a
    ``compound`` that has its descriptors there, measured on ``date``
    (ISO, default today). Atomic, under the dataset's lock, and idempotent:
    the same fit twice adds one row (the provenance hash is the fit's input
    file's SHA-256, or for arrays that of the fitted delays and data as
    float64 bytes). A fit of simulated data is refused unless
    ``allow_synthetic``. Returns True if a row was added."""
    import datetime
    import hashlib
    d = fit.to_dict()
    src = d.get("input_sha256")
    if not src:
        src = hashlib.sha256(_np.ascontiguousarray(fit.delay, dtype=_np.float64).tobytes()
                             + _np.ascontiguousarray(fit.data, dtype=_np.float64).tobytes()).hexdigest()
    date = date or datetime.date.today().isoformat()
    return _spinfit._append(str(dataset), _json.dumps(d), str(compound), str(date), src,
                            bool(allow_synthetic))


def ml_cv(data, *, model="rf", cv="loo", target="rate", features=None, log_target=False, refit=True):
    """Cross-validate a spin-relaxation predictor on a table (a dataset from
    ``spinfit dataset import``, any CSV or .xlsx with a header), as
    ``spinfit ml cv`` does: ``model`` such as "rf", "svr:c=10",
    "ann:hidden=40x10,activation=tanh"; ``cv`` such as "loo", "kfold:5x10",
    "shuffle:10:0.2", "groupkfold:4:phase". Returns a dict: the held-out
    scores (pooled out-of-fold predictions), the in-sample ones (optimistic;
    None with ``refit=False``), per-fold scores, and every row's held-out
    prediction beside its id and measured value; a pandas DataFrame of the
    rows under "table" when pandas is installed."""
    if isinstance(features, str):
        features = features.split(",")
    d = _json.loads(_spinfit._ml_cv(str(data), str(model), str(cv), str(target),
                                    None if features is None else [str(f) for f in features],
                                    bool(log_target), bool(refit)))
    r = d.pop("result")
    d.update(r)
    rows = {"id": d["ids"], "measured": d["measured"], "held_out_prediction": r["predictions"],
            "fold": r["fold_of"]}
    try:
        import pandas
        d["table"] = pandas.DataFrame(rows)
    except ImportError:
        d["table"] = rows
    return d


def predict(source, candidates, *, model="rf", target="rate", features=None, log_target=False,
            members=20, vary=()):
    """Spin-relaxation rates (ps^-1) and lifetimes (ps) of candidate
    compositions (a CSV with the model's descriptor columns and a
    compound/sample column), from a model saved by ``spinfit ml train``
    (``source`` a .json file) or trained here on the table ``source``; each
    with the sd of a ``members``-member bootstrap ensemble and the
    descriptors outside the training range. ``vary`` makes a grid, e.g.
    ``["n_layers=1,2,3"]``. Returns the ``spinfit.predict/1`` dict."""
    if isinstance(features, str):
        features = features.split(",")
    if isinstance(vary, str):
        vary = [vary]
    return _json.loads(_spinfit._predict(
        str(source), str(candidates), str(model), str(target),
        None if features is None else [str(f) for f in features], bool(log_target), int(members),
        [str(v) for v in vary]))


def dataset_import(sheet, out):
    """Import a descriptor sheet (the paper's ``data.xlsx`` layout, CSV or
    .xlsx) into a spinfit dataset CSV at ``out``, with provenance (the
    sheet's SHA-256), as ``spinfit dataset import``. Returns the number of
    rows; the import report (what was mapped and dropped) is printed."""
    n, report = _spinfit._dataset_import(str(sheet), str(out))
    print(report, end="")
    return n
