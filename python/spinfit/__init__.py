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
import numbers as _numbers

import numpy as _np

from ._spinfit import FitError, __version__
from . import _spinfit

__all__ = ["read_scan", "read_scans", "Scan", "fit_tr", "fit_trfe", "fit_files", "fit_global", "GlobalResult", "gfactor", "gspectrum", "session",
           "dataset_import", "dataset_check", "append", "ml_cv", "train", "predict", "screen", "explain",
           "FitResult", "Param", "Quantity", "Component", "Lifetime", "FitError", "__version__"]


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


def _text(name, v):
    """A setting as the text the command line takes: booleans as true/false,
    numbers in the documented unit (ps, T), strings as they are."""
    if isinstance(v, (bool, _np.bool_)):
        return "true" if v else "false"
    if isinstance(v, _numbers.Real):  # also NumPy scalars (np.int64, np.float32)
        return repr(float(v) if not isinstance(v, _numbers.Integral) else int(v)) + _UNIT_OF.get(name, "")
    if isinstance(v, str):
        return v
    raise ValueError(f"{name}: expected a number, a string or a boolean, got {v!r}")


# the unit a bare number of these settings is in
_UNIT_OF = {"from": "ps", "to": "ps", "irf_fwhm": "ps", "t0": "ps", "field": "T", "min_field": "T"}


def _options(options):
    """Keyword settings (names as in spinfit.toml: irf_fwhm, phase, ...) as text."""
    return {str(k): _text(k, v) for k, v in options.items() if v is not None}


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
        # without field_T the library reads the field from the header or
        # the file name (``_420mT``), as the command line does
        return fit_trfe(self.delay, self.signal, options.pop("field_T", None), _origin=origin, **options)

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


class Quantity:
    """A number with its standard error (None when undetermined) and unit."""

    __slots__ = ("value", "stderr", "unit")

    def __init__(self, d):
        d = d or {}
        self.value, self.stderr, self.unit = d.get("value"), d.get("stderr"), d.get("unit", "")

    def __float__(self):
        return float(self.value)

    def __repr__(self):
        err = "" if self.stderr is None else f" +/- {self.stderr:.3g}"
        return f"{self.value:.6g}{err} {self.unit}".rstrip()


class Component:
    """One damped cosine of a TRFE fit: ``omega`` (rad/ns), ``t2`` (T2*, ps),
    ``g`` (|g|, from omega and the field) and ``amplitude``, each a Quantity."""

    def __init__(self, d):
        self.omega, self.t2 = Quantity(d.get("omega")), Quantity(d.get("t2"))
        self.g, self.amplitude = Quantity(d.get("g")), Quantity(d.get("amplitude"))

    def __repr__(self):
        return f"<Component omega = {self.omega}, T2* = {self.t2}, |g| = {self.g}>"


class Lifetime:
    """One exponential of a TR fit: ``tau`` (ps), ``rate`` (1/tau, ps^-1)
    and ``amplitude``, each a Quantity."""

    def __init__(self, d):
        self.tau, self.rate = Quantity(d.get("tau")), Quantity(d.get("rate"))
        self.amplitude = Quantity(d.get("amplitude"))

    def __repr__(self):
        return f"<Lifetime tau = {self.tau}, rate = {self.rate}>"


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
        #: TRFE: the damped cosines (omega, T2*, |g|, amplitude)
        self.components = [Component(c) for c in self.results.get("components", [])]
        #: TR: the exponentials (tau, rate, amplitude)
        self.lifetimes = [Lifetime(t) for t in self.results.get("lifetimes", [])]
        self.kind = self._d.get("kind")

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

    def plot(self, ax=None):
        """A matplotlib figure: the data and the fitted curve with the fitted
        values and their errors in the legend, the residuals below (for TR
        on a linear-then-log delay axis); ``SYNTHETIC`` on simulated data.
        Needs matplotlib; returns the Figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("FitResult.plot needs matplotlib: pip install matplotlib") from e
        if ax is None:
            fig, (ax, axr) = plt.subplots(2, 1, sharex=True, figsize=(7, 5),
                                          gridspec_kw={"height_ratios": [3, 1]})
        else:
            fig, axr = ax.figure, None
        what = self._d.get("signal", "signal")
        ax.plot(self.delay, self.data, ".", ms=3, color="0.35", label=f"data ({what})")
        if self.kind == "tr":
            vals = "; ".join(f"tau = {t.tau}" for t in self.lifetimes)
        else:
            vals = "; ".join(f"omega = {c.omega}, T2* = {c.t2}" for c in self.components)
        ax.plot(self.delay, self.best_fit, "-", color="C3", lw=1.5, label=f"fit: {vals}")
        ax.set_ylabel(f"{what} (arb. u.)")
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
        ax.set_title(f"{self._d.get('file') or 'arrays'}: {self._d.get('model', '')}", fontsize=9)
        if (self._d.get("metadata") or {}).get("synthetic"):
            ax.text(0.99, 0.02, "SYNTHETIC", transform=ax.transAxes, ha="right", va="bottom",
                    color="red", fontsize=12, alpha=0.6)
        if axr is not None:
            axr.plot(self.delay, self.residual, ".", ms=2, color="C0")
            axr.axhline(0, color="0.5", lw=0.8)
            axr.set_ylabel("fit - data")
            axr.set_xlabel("delay (ps)")
        else:
            ax.set_xlabel("delay (ps)")
        if self.kind == "tr":
            ax.set_xscale("symlog", linthresh=max(1.0, float(abs(self.delay).max()) / 100))
        return fig

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
           _origin=(None, None), **options):
    """Fit a spin-resolved transient-reflection trace: exponential spin
    decay(s) convolved with the instrument response. Give the co- and
    counter-circular channels (``sc``, ``cc``; the fitted signal is SC - CC)
    or ``signal``. Delays in ps; the window ``fit_from_ps``/``fit_to_ps`` in
    ps or as strings with units ("2ps"). Further settings as ``spinfit fit
    tr`` takes them, by their spinfit.toml names: ``irf_fwhm`` and ``t0``
    (fix them, ps or "150fs"), ``baseline`` (auto, offset, step, both,
    none), ``artefact`` (auto, on, off), ``polarisation`` (True fits
    (SC-CC)/(SC+CC)), ``residual_alpha``, ``profile`` (True: profile-
    likelihood intervals). The GIL is released while fitting."""
    opts = _options(dict(options, exponentials=exponentials, **{"from": fit_from_ps, "to": fit_to_ps}))
    return FitResult(*_spinfit._fit_tr(
        _array("delay_ps", delay_ps), _array("sc", sc), _array("cc", cc), _array("signal", signal),
        opts, _origin))


def fit_trfe(delay_ps, signal, field_T, *, components="auto", fit_from_ps=None, fit_to_ps=None,
             _origin=(None, None), **options):
    """Fit a TRFE/TRKR trace in a transverse field ``field_T`` (tesla, or a
    string such as "200mT"): one or two damped cosines (``components`` 1, 2
    or "auto"). Delays in ps. Further settings as ``spinfit fit trfe``
    takes them: ``criterion`` (bic, aic, ftest), ``phase``, ``decay``,
    ``offset`` (auto, on, off), ``envelope`` (auto, exponential, gaussian),
    ``residual_alpha``, ``profile``. ``field_T=None`` takes the field of
    the trace's header or file name (``_420mT``) for a scan read from a
    file. The GIL is released while fitting."""
    opts = _options(dict(options, components=components, **{"from": fit_from_ps, "to": fit_to_ps}))
    field = None if field_T is None else _tesla("field_T", field_T)
    return FitResult(*_spinfit._fit_trfe(
        _array("delay_ps", delay_ps), _array("signal", signal), field, opts, _origin))


class GlobalResult:
    """A global map fit: ``lifetimes``, ``rates``, ``chirp`` (each a list of
    dicts with value, stderr and unit), ``t0``, ``irf_fwhm``, ``columns``
    (the amplitude columns: das_1..das_N, offset, ...), ``amplitude`` and
    ``amplitude_stderr`` (columns x wavelengths), ``eas``/``eas_stderr``
    (the sequential scheme's evolution-associated spectra), ``fitted`` and
    ``residual`` (wavelengths x delays; residual = fit - data), ``status``
    and ``notes``; ``to_dict()`` is the ``spinfit.global/1`` JSON the
    command line writes, ``to_xarray()`` an ``xarray.Dataset``."""

    def __init__(self, text, amplitude, amplitude_stderr, eas, eas_stderr, fitted, residual,
                 delay_ps, wavelength_nm):
        self._d = _json.loads(text)
        self.amplitude, self.amplitude_stderr = amplitude, amplitude_stderr
        self.eas, self.eas_stderr = eas, eas_stderr
        self.fitted, self.residual = fitted, residual
        self.delay_ps, self.wavelength_nm = delay_ps, wavelength_nm
        for key in ("lifetimes", "rates", "chirp", "t0", "irf_fwhm", "status", "notes",
                    "statistics", "candidates", "n_exp", "model"):
            setattr(self, key, self._d.get(key))
        self.columns = self._d.get("columns", [])

    def to_dict(self):
        return _json.loads(_json.dumps(self._d))

    def to_xarray(self):
        import xarray as xr
        n = self.n_exp
        comp = [f"tau_{k + 1}" for k in range(n)]
        return xr.Dataset(
            {"fitted": (("wavelength_nm", "delay_ps"), self.fitted),
             "residual": (("wavelength_nm", "delay_ps"), self.residual),
             "das": (("component", "wavelength_nm"), self.amplitude[:n]),
             "das_stderr": (("component", "wavelength_nm"), self.amplitude_stderr[:n]),
             "eas": (("species", "wavelength_nm"), self.eas),
             "eas_stderr": (("species", "wavelength_nm"), self.eas_stderr)},
            coords={"wavelength_nm": self.wavelength_nm, "delay_ps": self.delay_ps,
                    "component": comp, "species": comp[:len(self.eas)],
                    "tau_ps": ("component", [t["value"] for t in self.lifetimes])},
            attrs={"schema": "spinfit.global/1", "status": self.status})

    def __repr__(self):
        taus = ", ".join(f"{t['value']:.4g} ps" for t in self.lifetimes)
        return f"<GlobalResult status={self.status} lifetimes=[{taus}]>"


def fit_global(data, delay_ps, wavelength_nm, *, components=None, max_components=4, chirp_order=0,
               artefact=False, step=False, offset=True, lambda_ref_nm=None):
    """Global analysis of a map ``data[wavelength, delay]`` (delays in ps,
    wavelengths in nm) as ``spinfit global`` does it: ``components``
    exponentials (None: 1 to ``max_components`` by BIC) convolved with a
    Gaussian IRF, lifetimes, t0, IRF width and a chirp polynomial of
    ``chirp_order`` shared, amplitudes per wavelength. Raises ValueError
    for a map that cannot be fitted (a NaN is named by wavelength and
    delay). The GIL is released while fitting."""
    import numpy as np
    d = np.ascontiguousarray(data, dtype=np.float64)
    t = np.ascontiguousarray(delay_ps, dtype=np.float64)
    w = np.ascontiguousarray(wavelength_nm, dtype=np.float64)
    if d.ndim != 2 or d.shape != (w.size, t.size):
        raise ValueError(f"data: expected shape (len(wavelength_nm), len(delay_ps)) = "
                         f"({w.size}, {t.size}), got {d.shape}")
    return GlobalResult(*_spinfit._fit_global(d, t, w, components, max_components, chirp_order,
                                              bool(artefact), bool(step), bool(offset), lambda_ref_nm),
                        t, w)


def fit_files(paths, *, kind="tr", **options):
    """Fit every scan of every file in ``paths`` (one path or several), the
    files in parallel with the GIL released, as ``spinfit fit tr|trfe
    FILE...`` does; settings as ``fit_tr``/``fit_trfe`` take them (``field``
    for TRFE files without one in their header or name). One bad file never
    stops the batch. Returns (fits, failures): FitResults in file order,
    and (file, message) of what could not be fitted."""
    fits, failures = _spinfit._fit_files(_paths(paths), str(kind), _options(options))
    return [FitResult(*f) for f in fits], failures


def _paths(paths):
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    return [str(p) for p in paths]


def gfactor(paths, *, min_field="100mT", larger="electron", single="hole", global_fit=False, **options):
    """A TRFE field series (files or folders; the field of each trace from
    its header or file name, e.g. ``_420mT``): every trace fitted, then per
    carrier |g| from omega_L(B) = |g| mu_B B / hbar and dg from
    1/T2*(B) = 1/T2*(0) + dg mu_B B / (sqrt(2) hbar). Traces below
    ``min_field`` are fitted but left out of the slopes; ``larger`` names the
    faster-precessing carrier, ``single`` the carrier of one-component
    traces; ``global_fit`` also fits all traces at once; other settings as
    ``fit_trfe`` (a ``spinfit.toml`` in the folder applies beneath them).
    Returns the ``spinfit.gfactor/1`` dict the command line prints."""
    opts = _options(dict(options, min_field=min_field, larger=larger, single=single, **{"global": global_fit}))
    return _json.loads(_spinfit._gfactor(_paths(paths), opts))


def gspectrum(results, *, sign_e="+", sign_h="+", delta=None, p2_m0=None, dg_e=None):
    """g_e, g_h and g_BX = g_e + g_h versus photon energy from field-series
    results: ``gfactor`` dicts or paths of ``spinfit gfactor --json`` files.
    TRFE measures |g|: ``sign_e``/``sign_h`` ("+" or "-") are the assumed
    signs. The k.p parameters (``delta`` eV, ``p2_m0`` eV, ``dg_e``) default
    to the library's. Returns the ``spinfit.gspectrum/1`` dict; its rows as
    a DataFrame under "table" when pandas is installed."""
    if isinstance(results, dict) or isinstance(results, (str, bytes)) or hasattr(results, "__fspath__"):
        results = [results]
    docs = []
    for i, r in enumerate(results):
        if isinstance(r, dict):
            docs.append((f"results[{i}]", _json.dumps(r)))
        else:
            docs.append((str(r), None))  # read by the library, size-bounded
    d = _json.loads(_spinfit._gspectrum(docs, str(sign_e), str(sign_h), delta, p2_m0, dg_e))
    q = lambda x, k: None if x is None else x[k]
    rows = {"energy_eV": [r["energy_ev"] for r in d["rows"]], "source": [r["source"] for r in d["rows"]]}
    for g in ("g_e", "g_h", "g_bx"):
        rows[g] = [q(r[g], "value") for r in d["rows"]]
        rows[g + "_stderr"] = [q(r[g], "stderr") for r in d["rows"]]
    d["table"] = _table(rows)
    return d


def _table(columns):
    try:
        import pandas
        return pandas.DataFrame(columns)
    except ImportError:
        return columns


def session(path, out=None, *, global_fit=False, follow_symlinks=False, figures="all", **options):
    """A lab session in one call (``spinfit session``): every scan in the
    folder or HDF5 file ``path`` recognised (TR or TRFE), fitted in
    parallel, TRFE scans of one sample and energy grouped into field
    series; ``global_fit`` also fits each series globally. Settings by their
    spinfit.toml names (``kind``, ``min_field``, ``components``,
    ``irf_fwhm``, ...) over the folder's ``spinfit.toml``. With ``out``, the tables, JSON, HDF5, figures and
    summary.md are written there; ``figures`` is "all", "failed" (only fits
    that are not trustworthy) or "none". Returns the ``spinfit.session/1`` dict:
    "fits" (``spinfit.fit/1`` dicts), "series" (``spinfit.gfactor/1``),
    "g_spectrum", "failures" and "skipped" with reasons, "settings"."""
    opts = _options(dict(options, **{"global": bool(global_fit)}))
    return _json.loads(_spinfit._session(str(path), None if out is None else str(out), opts,
                                         bool(follow_symlinks), str(figures)))


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


def _features(features):
    if isinstance(features, str):
        features = features.split(",")
    return None if features is None else [str(f) for f in features]


def ml_cv(data, *, model="rf", cv="loo", target="rate", features=None, log_target=False, refit=True,
          cv_seed=None):
    """Cross-validate a spin-relaxation predictor on a table (a dataset from
    ``spinfit dataset import``, any CSV or .xlsx with a header), as
    ``spinfit ml cv`` does: ``model`` such as "rf", "svr:c=10",
    "ann:hidden=40x10,activation=tanh"; ``cv`` such as "loo", "kfold:5x10",
    "shuffle:10:0.2", "groupkfold:4:phase"; ``cv_seed`` moves k-fold and
    shuffle splits. Returns the ``spinfit.cv/1`` dict the command line
    prints, with "held_out" and "in_sample" (None with ``refit=False``) as
    {r2, mse, rmse, mae}, and the rows (id, measured, held-out prediction,
    fold) under "table", a DataFrame when pandas is installed."""
    d = _json.loads(_spinfit._ml_cv(str(data), str(model), str(cv), str(target), _features(features),
                                    bool(log_target), bool(refit), cv_seed))
    for kind, key in (("held-out", "held_out"), ("in-sample", "in_sample")):
        m = {x["name"]: x["value"] for x in d["metrics"] if x["kind"] == kind}
        d[key] = m or None
    p = d["predictions"]
    d["table"] = _table({"id": [r["id"] for r in p], "measured": [r["measured"] for r in p],
                         "held_out_prediction": [r["held_out_prediction"] for r in p],
                         "fold": [r["fold"] for r in p]})
    return d


def train(data, out, *, model="rf", target="rate", features=None, log_target=False):
    """Train ``model`` on every row of the table ``data`` and save it to
    ``out`` (``spinfit ml train``; schema spinfit.model/1, readable by
    ``predict``, ``screen`` and ``explain``). Returns the saved dict."""
    return _json.loads(_spinfit._train(str(data), str(out), str(model), str(target), _features(features),
                                       bool(log_target)))


def predict(source, candidates, *, model=None, target="rate", features=None, log_target=False,
            members=20, vary=(), _rank=False):
    """Spin-relaxation rates (ps^-1) and lifetimes (ps) of candidates, from
    a model saved by ``train`` (``source`` a .json file) or trained here on
    the table ``source`` (``model`` default "rf"); each with the sd of a
    ``members``-member bootstrap ensemble and the descriptors outside the
    training range. ``candidates``: a CSV with the model's descriptor
    columns and a compound/sample column, or one of
    name,cations,metal,halide,layers (cations as SMILES:count;...) whose
    descriptors are computed from the molecules (needs the RDKit/PySCF
    environment of scripts/chem-env). ``vary`` makes a grid, e.g.
    ``["n_layers=1,2,3"]``. Returns the ``spinfit.predict/1`` dict, its
    rows under "table"."""
    if isinstance(vary, str):
        vary = [vary]
    d = _json.loads(_spinfit._predict(
        str(source), str(candidates), None if model is None else str(model), str(target),
        _features(features), bool(log_target), int(members), [str(v) for v in vary], bool(_rank)))
    c = d["candidates"]
    d["table"] = _table({"id": [r["id"] for r in c], "rate_per_ps": [r["rate"]["value"] for r in c],
                         "rate_sd": [r["rate"]["stderr"] for r in c],
                         "tau_ps": [None if r["tau"] is None else r["tau"]["value"] for r in c],
                         "out_of_range": [",".join(o["feature"] for o in r["out_of_range"]) for r in c]})
    return d


def screen(source, candidates, **options):
    """``predict``, ranked by predicted rate (slowest relaxation first), as
    ``spinfit ml screen``."""
    return predict(source, candidates, _rank=True, **options)


def explain(source, *, model=None, target="rate", features=None, background=100, background_seed=0):
    """Exact Shapley values of a model's predictions on its training rows
    (``spinfit ml explain``): a saved model, or ``model`` trained here on
    the table ``source``; against ``background`` rows drawn with
    ``background_seed``. The method is exact for every model (closed form,
    TreeSHAP, the RBF product form, or enumeration). Returns the
    ``spinfit.shap/1`` dict; the values as a DataFrame (rows x features)
    under "table"."""
    d = _json.loads(_spinfit._explain(str(source), None if model is None else str(model), str(target),
                                      _features(features), int(background), int(background_seed)))
    cols = {"id": [r["id"] for r in d["rows"]]}
    for j, f in enumerate(d["features"]):
        cols[f] = [r["shap"][j] for r in d["rows"]]
    d["table"] = _table(cols)
    return d


def dataset_import(sheet, out):
    """Import a descriptor sheet (the paper's ``data.xlsx`` layout, CSV or
    .xlsx) into a spinfit dataset CSV at ``out``, with provenance (the
    sheet's SHA-256), as ``spinfit dataset import``. Returns the number of
    rows; the import report (what was mapped and dropped) is printed."""
    n, report = _spinfit._dataset_import(str(sheet), str(out))
    print(report, end="")
    return n


def dataset_check(dataset):
    """The findings of ``spinfit dataset check`` (duplicates, out-of-range
    values, the sheet's own rules): a list of {kind, rows, message}, rows
    1-based as in the file after its header. Empty when all is well."""
    found, _rows = _spinfit._dataset_check(str(dataset))
    return _json.loads(found)
