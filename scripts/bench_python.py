"""Compare spinfit's single-fit speed with scipy.optimize.curve_fit and lmfit
on the same data, from the same start values, at the same answer.

Input: the JSON printed by `cargo run --release --example time_fits`
(data arrays, start values, spinfit's result and seconds per fit).
All numbers in one run; ratios are reported, not absolute times.
"""
import json
import sys
import timeit

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erfc, erfcx
import lmfit

FWHM = 2.354820045030949


def irf_exp(u, tau, sigma):
    z = (sigma / tau - u / sigma) / np.sqrt(2.0)
    out = np.empty_like(u)
    pos = z >= 0
    out[pos] = 0.5 * np.exp(-0.5 * (u[pos] / sigma) ** 2) * erfcx(z[pos])
    neg = ~pos
    out[neg] = 0.5 * np.exp(0.5 * (sigma / tau) ** 2 - u[neg] / tau) * erfc(z[neg])
    return out


def tr_model(t, amplitude, tau, t0, irf_fwhm, step, offset):
    sigma = irf_fwhm / FWHM
    u = t - t0
    return amplitude * irf_exp(u, tau, sigma) + step * 0.5 * erfc(-u / (np.sqrt(2) * sigma)) + offset


def trfe_model(t, amplitude_1, omega_1, t2_1, amplitude_2, omega_2, t2_2, offset):
    return (amplitude_1 * np.cos(omega_1 * t * 1e-3) * np.exp(-t / t2_1)
            + amplitude_2 * np.cos(omega_2 * t * 1e-3) * np.exp(-t / t2_2) + offset)


def bench(case, model, bounds_lmfit):
    x, y = np.array(case["x"]), np.array(case["y"])
    names, p0 = case["names"], case["start"]
    ours = np.array(case["result"])

    def scipy_fit():
        return curve_fit(model, x, y, p0=p0)

    popt, pcov = scipy_fit()
    lm_model = lmfit.Model(model)
    params = lm_model.make_params(**dict(zip(names, p0)))
    for n, (lo, hi) in bounds_lmfit.items():
        params[n].set(min=lo, max=hi)

    def lmfit_fit():
        return lm_model.fit(y, params, t=x)

    res = lmfit_fit()
    lm_vals = np.array([res.params[n].value for n in names])
    n_sc = max(3, int(0.5 / max(timeit.timeit(scipy_fit, number=1), 1e-6)))
    t_sc = min(timeit.repeat(scipy_fit, number=n_sc, repeat=3)) / n_sc
    n_lm = max(3, int(0.5 / max(timeit.timeit(lmfit_fit, number=1), 1e-6)))
    t_lm = min(timeit.repeat(lmfit_fit, number=n_lm, repeat=3)) / n_lm
    t_us = case["seconds_per_fit"]
    rel = lambda a: np.max(np.abs(a - ours) / np.maximum(np.abs(ours), 1e-12))
    # agreement in units of spinfit's standard errors (same minimum?)
    err = np.array(case["stderr"])
    z = lambda a: np.nanmax(np.abs(a - ours) / err)
    print(f"{case['file']} ({case['model']}, {len(x)} points)")
    print(f"  spinfit     {t_us * 1e6:9.1f} us/fit  ({case['nfev']} evaluations; "
          f"Levenberg-Marquardt on every parameter {case['seconds_full_lm'] * 1e6:.1f} us)")
    print(f"  floor       {case['floor_seconds'] * 1e6:9.1f} us/fit  (evaluations x one basis+derivatives) "
          f"fit/floor {t_us / case['floor_seconds']:.2f} (target <= 3)")
    print(f"  curve_fit   {t_sc * 1e6:9.1f} us/fit  ratio {t_sc / t_us:6.1f}x  "
          f"max |diff| {rel(popt):.1e} relative, {z(popt):.1e} stderr")
    print(f"  lmfit       {t_lm * 1e6:9.1f} us/fit  ratio {t_lm / t_us:6.1f}x  "
          f"max |diff| {rel(lm_vals):.1e} relative, {z(lm_vals):.1e} stderr")
    return t_sc / t_us, t_lm / t_us


def main():
    data = json.load(sys.stdin if len(sys.argv) < 2 else open(sys.argv[1]))
    inf = np.inf
    r1 = bench(data["tr"], tr_model, {"tau": (1e-4, inf), "irf_fwhm": (1e-4, inf)})
    r2 = bench(data["trfe"], trfe_model,
               {"omega_1": (0, inf), "omega_2": (0, inf), "t2_1": (1e-3, inf), "t2_2": (1e-3, inf)})
    print(f"speed-up vs curve_fit: TR {r1[0]:.1f}x, TRFE {r2[0]:.1f}x (target >= 30x)")
    print(f"speed-up vs lmfit:     TR {r1[1]:.1f}x, TRFE {r2[1]:.1f}x (target >= 100x)")
    print("default automatic fits (model ladder / start points), one core:")
    for a in data.get("auto", []):
        ms = a["seconds_per_trace"] * 1e3
        target = "target <= 1 ms" if a["file"].startswith("trfe") else "no target"
        print(f"  {a['file']:36s} {a['points']:4d} points  {ms:7.2f} ms/trace  ({target})  -> {a['model']}")


if __name__ == "__main__":
    main()
