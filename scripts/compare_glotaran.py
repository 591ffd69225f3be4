"""spinfit global beside pyglotaran on the same maps and the same model.

Two maps: one simulated here (400 x 300, numpy/scipy, independently of
spinfit's own simulator: three exponentials convolved with a Gaussian IRF,
a cubic chirp, an offset per wavelength, Gaussian noise), and the measured
Glotaran map in fixtures/glotaran-ta/. Then a simulated 1000 x 500 map with
four components by spinfit alone, time and memory beside their targets. The model in both programs: N parallel exponentials
(pyglotaran's decay megacomplex with a diagonal K matrix), a Gaussian IRF
whose centre follows a polynomial in (lambda - 550 nm) / 100 nm
(pyglotaran's spectral-multi-gaussian dispersion, spinfit's --chirp-order),
and a baseline per wavelength; on the measured map also the coherent
artefact (pyglotaran's coherent-artifact megacomplex of order 3: the IRF
Gaussian and its first two derivatives, which span what spinfit's
--artefact does). pyglotaran starts from round values a user
would type (on the measured map the IRF centre of pyglotaran-examples'
study of it, 1.2 ps; from 1.0 ps its fit fails on a negative rate); spinfit makes its own starts. Printed: each shared parameter
from both with its standard error, the difference in units of the larger
error, chi-square, and the wall time of each (spinfit: the whole process,
reading included; pyglotaran: optimize() alone) with the ratio beside the
target (>= 10x).

usage: python compare_glotaran.py SPINFIT_BINARY REAL_MAP OUT_DIR
"""

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import erfc, erfcx

TARGET = 10.0
PEAK_KB = [0]  # peak resident memory of the last spinfit run
LAMBDA_REF = 550.0


def conv_exp(u, tau, sigma):
    """Unit exponential convolved with a unit-area Gaussian (sigma), u = t - t0."""
    x = u / sigma
    z = (sigma / tau - x) / math.sqrt(2.0)
    out = np.empty_like(u)
    pos = z >= 0
    out[pos] = 0.5 * np.exp(-0.5 * x[pos] ** 2) * erfcx(z[pos])
    neg = ~pos
    out[neg] = 0.5 * np.exp(0.5 * (sigma / tau) ** 2 - u[neg] / tau) * erfc(z[neg])
    return out


def simulate(path, n_wl, fine, n_late, taus, seed=7):
    """A map of n_wl wavelengths (420-700 nm) and delays every `fine` ps to
    5 ps, then n_late log-spaced to 500 ps; Gaussian bands per lifetime."""
    rng = np.random.default_rng(seed)
    wl = np.linspace(420.0, 700.0, n_wl)
    t = np.concatenate([np.arange(-1.0, 5.0 - 1e-9, fine), np.geomspace(5.0, 500.0, n_late)])
    centres = np.linspace(480.0, 640.0, len(taus))
    heights = [1.0, -0.7, 0.5, -0.4][: len(taus)]
    chirp = [0.30, -0.08, 0.01]
    fwhm = 0.14
    sigma = fwhm / 2.354820045
    data = np.zeros((wl.size, t.size))
    for i, lam in enumerate(wl):
        x = (lam - LAMBDA_REF) / 100.0
        t0 = 0.5 + sum(d * x ** (k + 1) for k, d in enumerate(chirp))
        for tau, c, h in zip(taus, centres, heights):
            data[i] += h * math.exp(-0.5 * ((lam - c) / 45.0) ** 2) * conv_exp(t - t0, tau, sigma)
        data[i] += 0.01 * (700.0 - lam) / 280.0
    data += rng.normal(0.0, np.abs(data).max() / 150.0, data.shape)
    with open(path, "w") as f:
        f.write("Header\nOriginal filename: simulated by compare_glotaran.py\nTime explicit\n")
        f.write(f"intervalnr {t.size}\n")
        f.write(" ".join(f"{v:.6f}" for v in t) + "\n")
        for lam, row in zip(wl, data):
            f.write(f"{lam:.4f} " + " ".join(f"{v:.8e}" for v in row) + "\n")
    truth = {"tau": list(taus), "t0": 0.5, "chirp": chirp, "irf_fwhm": fwhm}
    return truth, (wl.size, t.size)


def run_spinfit(binary, path, n, order, out, artefact):
    args = [binary, "global", str(path), "--components", str(n), "--chirp-order", str(order),
            "--lambda-ref", f"{LAMBDA_REF}nm", "--json", "--no-figures", "--out", str(out)]
    if artefact:
        args.append("--artefact")
    start = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while p.poll() is None:
        # VmHWM: the process's own peak resident set (after exec, unlike
        # getrusage's, which counts the forked Python's pages)
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.01)
    stdout, stderr = p.communicate()
    wall = time.perf_counter() - start
    if p.returncode not in (0, 3):
        sys.exit(f"spinfit failed ({p.returncode}): {stderr}")
    PEAK_KB[0] = peak_kb
    return json.loads(stdout), wall


def run_glotaran(path, n, order, rates0, artefact, center0):
    from glotaran.io import load_dataset, load_model, load_parameters
    from glotaran.optimization.optimize import optimize
    from glotaran.project import Scheme

    comps = [f"s{k + 1}" for k in range(n)]
    matrix = "\n".join(f"      ({c}, {c}): rates.k{k + 1}" for k, c in enumerate(comps))
    disp = ", ".join(f"irf.disp{k + 1}" for k in range(order))
    art = "  artefact:\n    type: coherent-artifact\n    order: 3\n" if artefact else ""
    model = f"""
default_megacomplex: decay
dataset:
  dataset1:
    megacomplex: [cmplx1, base{", artefact" if artefact else ""}]
    irf: irf1
    initial_concentration: input1
initial_concentration:
  input1:
    compartments: [{", ".join(comps)}]
    parameters: [{", ".join(["inputs.1"] * n)}]
megacomplex:
  cmplx1:
    k_matrix: [km1]
  base:
    type: baseline
    dimension: time
{art}k_matrix:
  km1:
    matrix:
{matrix}
irf:
  irf1:
    type: spectral-multi-gaussian
    center: [irf.center]
    width: [irf.width]
    dispersion_center: irf.dispc
    center_dispersion_coefficients: [{disp}]
"""
    rates = "\n".join(f"  - ['k{k + 1}', {r}]" for k, r in enumerate(rates0))
    disps = "\n".join(f"  - ['disp{k + 1}', 0.0]" for k in range(order))
    params = f"""
inputs:
  - ['1', 1, {{vary: False}}]
rates:
{rates}
irf:
  - ['center', {center0}]
  - ['width', 0.06]
  - ['dispc', {LAMBDA_REF}, {{vary: False}}]
{disps}
"""
    scheme = Scheme(load_model(model, format_name="yml_str"),
                    load_parameters(params, format_name="yml_str"),
                    {"dataset1": load_dataset(str(path))},
                    maximum_number_function_evaluations=500)
    start = time.perf_counter()
    res = optimize(scheme, verbose=False)
    wall = time.perf_counter() - start
    p = {q.label: (q.value, q.standard_error) for q in res.optimized_parameters.all()}
    taus = sorted((1.0 / p[f"rates.k{k + 1}"][0], p[f"rates.k{k + 1}"][1] / p[f"rates.k{k + 1}"][0] ** 2)
                  for k in range(n))
    out = {f"tau_{k + 1}": taus[k] for k in range(n)}
    out["t0"] = p["irf.center"]
    # pyglotaran's width is the Gaussian's sigma
    out["irf_fwhm"] = tuple(2.354820045 * v for v in p["irf.width"])
    for k in range(order):
        out[f"chirp_{k + 1}"] = p[f"irf.disp{k + 1}"]
    chi2 = 2.0 * res.cost
    ds = res.data["dataset1"]
    name = next(v for v in ds.data_vars if str(v).startswith("decay_associated_spectra"))
    das = np.asarray(ds[name].values)  # spectral x component, in s1..sN order
    if das.shape[0] != ds.sizes["spectral"]:
        das = das.T
    order = np.argsort([1.0 / p[f"rates.k{k + 1}"][0] for k in range(n)])
    out["das"] = das[:, order]
    return out, chi2, wall, res.number_of_function_evaluations


def spinfit_values(doc):
    out = {f"tau_{k + 1}": (q["value"], q["stderr"]) for k, q in enumerate(doc["lifetimes"])}
    out["t0"] = (doc["t0"]["value"], doc["t0"]["stderr"])
    out["irf_fwhm"] = (doc["irf_fwhm"]["value"], doc["irf_fwhm"]["stderr"])
    for k, q in enumerate(doc["chirp"]):
        out[f"chirp_{k + 1}"] = (q["value"], q["stderr"])
    return out


def fmt(v):
    if v is None or not math.isfinite(v[1] if v[1] is not None else float("nan")):
        return f"{v[0]:.5g} +/- ?" if v else "-"
    return f"{v[0]:.5g} +/- {v[1]:.2g}"


def compare(name, binary, path, n, order, rates0, center0, out, truth=None, artefact=False):
    doc, t_sf = run_spinfit(binary, path, n, order, out, artefact)
    gl, chi_gl, t_gl, nfev_gl = run_glotaran(path, n, order, rates0, artefact, center0)
    sf = spinfit_values(doc)
    extra = ", coherent artefact (IRF and 2 derivatives)" if artefact else ""
    print(f"\n## {name}: {n} exponentials, chirp order {order}, offset per wavelength{extra}")
    print(f"{'parameter':<10} {'spinfit':>24} {'pyglotaran':>24} {'diff/sigma':>10}" +
          (f" {'truth':>10}" if truth else ""))
    for key in sf:
        if key == "das":
            continue
        a, b = sf[key], gl.get(key)
        e = max(x for x in (a[1], b[1] if b else None) if x is not None and math.isfinite(x)) \
            if (a[1] is not None and math.isfinite(a[1])) or (b and b[1] and math.isfinite(b[1])) else float("nan")
        d = abs(a[0] - b[0]) / e if b and e and math.isfinite(e) else float("nan")
        tv = ""
        if truth:
            if key.startswith("tau_"):
                tv = truth["tau"][int(key[4:]) - 1]
            elif key.startswith("chirp_"):
                tv = truth["chirp"][int(key[6:]) - 1]
            else:
                tv = truth[key]
            tv = f" {tv:>10.5g}"
        print(f"{key:<10} {fmt(a):>24} {fmt(b):>24} {d:>10.2f}{tv}")
    table = np.genfromtxt(Path(out) / (Path(path).stem + "_spectra.csv"), delimiter=",", names=True)
    worst = max(float(np.max(np.abs(table[f"das_{k + 1}"] - gl["das"][:, k]) / table[f"das_{k + 1}_stderr"]))
                for k in range(n))
    print(f"DAS: largest |spinfit - pyglotaran| over every wavelength and component = {worst:.2f} "
          f"of spinfit's stated errors")
    chi_sf = doc["statistics"]["chisqr"]
    print(f"chi-square: spinfit {chi_sf:.7e}, pyglotaran {chi_gl:.7e} (relative difference "
          f"{(chi_sf - chi_gl) / chi_gl:+.1e}); spinfit status {doc['status']}")
    ratio = t_gl / t_sf
    print(f"time: spinfit {t_sf:.2f} s ({doc['statistics']['nfev']} evaluations), pyglotaran "
          f"{t_gl:.2f} s ({nfev_gl} evaluations): {ratio:.1f}x (target >= {TARGET:.0f}x)"
          f"{'' if ratio >= TARGET else '  BELOW TARGET'}")


def large(binary, out):
    """A 1000 x 500 map with 4 components by spinfit alone: time and peak
    memory beside the targets (2 s; 10x the map's 4 MB)."""
    path = out / "large.ascii"
    truth, shape = simulate(path, 1000, 0.02, 200, [0.45, 6.0, 40.0, 200.0], seed=11)
    doc, wall = run_spinfit(binary, path, 4, 3, out / "large", False)
    rss_mb = PEAK_KB[0] / 1024.0
    map_mb = shape[0] * shape[1] * 8 / 1e6
    taus = ", ".join(f"{q['value']:.4g} +/- {q['stderr']:.2g}" for q in doc["lifetimes"])
    print(f"\n## simulated map {shape[0]} x {shape[1]}, 4 exponentials, chirp order 3 (spinfit alone)")
    print(f"lifetimes {taus} ps (truth {truth['tau']}); status {doc['status']}")
    print(f"time {wall:.2f} s (target < 2 s){'' if wall < 2.0 else '  ABOVE TARGET'}; "
          f"peak memory {rss_mb:.0f} MB = {rss_mb / map_mb:.0f}x the "
          f"map's {map_mb:.0f} MB (target < 10x){'' if rss_mb < 10 * map_mb else '  ABOVE TARGET'}")


def main():
    binary, real, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    sim = out / "simulated.ascii"
    truth, shape = simulate(sim, 400, 0.04, 150, [0.45, 6.0, 90.0])
    compare(f"simulated map ({shape[0]} x {shape[1]})", binary, sim, 3, 3, [2.0, 0.2, 0.02], 0.4,
            out / "sim", truth)
    compare("measured map, Hippius et al. 2007 (346 x 335)", binary, real, 4, 3,
            [5.0, 0.5, 0.05, 0.02], 1.2, out / "real", artefact=True)
    large(binary, out)


if __name__ == "__main__":
    main()
