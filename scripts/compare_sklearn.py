"""spinfit beside scikit-learn, xgboost and shap on the same inputs, one run.

Usage (scripts/compare-sklearn does this): compare_sklearn.py SPINFIT OUTDIR [--quick]

A. Agreement on the paper's sheet (52 rows, 8 descriptors, leave-one-out),
   settings matched:
   - OLS: held-out predictions agree to 1e-8;
   - SVR (C=1, epsilon=0.1, gamma="scale", tol 1e-6, standardised inputs
     and target): predictions within 2 % of the target's sd;
   - forest, boosted trees, MLP (10x10 relu, alpha 1): different random
     streams, so held-out R2 over 5 seeds each, agreeing when the means
     differ by less than 2 combined sd (or 0.05 for deterministic tools).
B. Speed at 4000 rows x 10 features (Friedman #1, 3000 train / 1000 test):
   fit + predict wall time (spinfit's `validation_seconds`, as the Python
   call is timed: without start-up and reading; the whole process is
   printed too), and held-out R2 of both; target: spinfit at least as fast.
C. SHAP: exact interventional values with a 100-row background at 442 x 10
   (scikit-learn's diabetes set) and with all rows on the sheet, spinfit
   `ml explain` (its `explain_seconds`: the explanation, not the training)
   against shap's ExactExplainer on the same kind of model; targets 10x
   and 100x. The sheet's explanations take milliseconds, so there each
   side is timed as its best of 3 runs (shap's first call in a fresh
   Python also includes numba's compilation).
D. The paper's grid search (36 MLP settings, LOO, 10 descriptors) and its
   nested counterpart (5-fold inner), spinfit against GridSearchCV (n_jobs=2).
"""
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import shap
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneOut, cross_val_predict
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from xgboost import XGBRegressor

warnings.filterwarnings("ignore")
SPIN, OUT = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv
# --only=BC: those sections alone (A agreement, B 4000-row speed, C SHAP,
# D the paper's grid search)
SECTIONS = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")), "ABCD")
if not SECTIONS or set(SECTIONS) - set("ABCD"):
    sys.exit(f"compare-sklearn: --only={SECTIONS}: expected one or more of the sections A B C D (e.g. --only=C)")
F8 = ("dipole_moment_D,mw_g_per_mol,electronegativity,polarisability_bohr3,"
      "tolerance_factor,e_homo_eV,e_lumo_eV,n_layers")
failed = False


def spinfit(*args):
    """Run spinfit, return (JSON output, wall seconds)."""
    t0 = time.perf_counter()
    r = subprocess.run([SPIN, *args, "--json"], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"spinfit {' '.join(args)} failed: {r.stderr}")
    return json.loads(r.stdout), dt


def timed(f):
    t0 = time.perf_counter()
    v = f()
    return v, time.perf_counter() - t0


def scaled(model):
    return TransformedTargetRegressor(regressor=make_pipeline(StandardScaler(), model),
                                      transformer=StandardScaler())


def held_out(j):
    return next(m["value"] for m in j["metrics"] if m["name"] == "r2" and m["kind"] == "held-out")


def verdict(good):
    global failed
    failed |= not good
    return "AGREE" if good else "DISAGREE"


def speed(ours, theirs, target):
    r = theirs / ours
    return f"{r:7.1f}x (target >= {target}x: {'met' if r >= target else 'NOT met'})"


# ---------------------------------------------------------------- A
srr = f"{OUT}/srr.csv"
d = pd.read_csv(srr)
X = d[F8.split(",")].to_numpy(float)
y = d["rate_per_ps"].to_numpy(float)
if "A" in SECTIONS:
    print(f"A. the paper's sheet: {len(y)} rows, 8 descriptors, leave-one-out")
    loo = LeaveOneOut()
    for name, spec, model in [
        ("ols", "ols", LinearRegression()),
        ("svr", "svr:tol=1e-6", scaled(SVR(C=1.0, epsilon=0.1, gamma="scale", tol=1e-6))),
    ]:
        csv = f"{OUT}/{name}-loo.csv"
        j, t_ours = spinfit("ml", "cv", srr, "--features", F8, "--model", spec, "--cv", "loo", "--csv", csv)
        mine = pd.read_csv(csv)["held_out_prediction"].to_numpy(float)
        pred, t_theirs = timed(lambda: cross_val_predict(model, X, y, cv=loo))
        diff = np.max(np.abs(pred - mine))
        bar = 1e-8 if name == "ols" else 0.02 * np.std(y)
        print(f"  {name:4} R2 spinfit {r2_score(y, mine):6.3f}, scikit-learn {r2_score(y, pred):6.3f}; "
              f"max |difference| {diff:.1e} (bar {bar:.1e}) -> {verdict(diff < bar)}; "
              f"time {t_ours:.2f} s vs {t_theirs:.2f} s: {t_theirs / t_ours:.1f}x")
    seeded = [
        ("rf", "rf", lambda s: RandomForestRegressor(random_state=s, n_jobs=-1), "scikit-learn"),
        ("gbt", "gbt", lambda s: XGBRegressor(tree_method="hist", random_state=s), "xgboost"),
        ("ann", "ann:hidden=10x10,alpha=1",
         lambda s: scaled(MLPRegressor(hidden_layer_sizes=(10, 10), alpha=1.0, solver="lbfgs", random_state=s)),
         "scikit-learn"),
    ]
    for name, spec, make, tool in seeded:
        j, t_ours = spinfit("ml", "cv", srr, "--features", F8, "--model", spec, "--cv", "loo", "--seeds", "5")
        mine = j["seeds"]
        r2, t_theirs = timed(lambda: np.array([r2_score(y, cross_val_predict(make(s), X, y, cv=loo)) for s in range(5)]))
        sd = np.hypot(mine["sd"], r2.std(ddof=1))
        bar = max(2 * sd, 0.05)
        good = abs(mine["mean"] - r2.mean()) < bar
        print(f"  {name:4} R2 over 5 seeds: spinfit {mine['mean']:6.3f} +/- {mine['sd']:.3f}, {tool} "
              f"{r2.mean():6.3f} +/- {r2.std(ddof=1):.3f} (bar {bar:.3f}) -> {verdict(good)}; "
              f"time {t_ours:.2f} s vs {t_theirs:.2f} s: {t_theirs / t_ours:.1f}x")

# ---------------------------------------------------------------- B
if "B" in SECTIONS:
    fr = f"{OUT}/friedman.csv"
    subprocess.run([SPIN, "ml", "friedman", "--rows", "4000", "--out", fr], check=True, capture_output=True)
    d = pd.read_csv(fr)
    cols = [f"x{i}" for i in range(1, 11)]
    Xf, yf = d[cols].to_numpy(float), d["y"].to_numpy(float)
    tr, te = slice(0, 3000), slice(3000, 4000)
    print("B. 4000 x 10 (Friedman #1), 3000 train / 1000 test: fit + predict")
    for name, spec, model, tool in [
        ("rf", "rf", RandomForestRegressor(n_jobs=-1, random_state=0), "scikit-learn (n_jobs=-1)"),
        ("gbt", "gbt", XGBRegressor(tree_method="hist"), "xgboost hist"),
        ("svr", "svr", scaled(SVR()), "scikit-learn"),
        ("ann", "ann", scaled(MLPRegressor(solver="lbfgs", random_state=0)), "scikit-learn lbfgs"),
        ("ann 40x10", "ann:hidden=40x10",
         scaled(MLPRegressor(hidden_layer_sizes=(40, 10), solver="lbfgs", random_state=0)), "scikit-learn lbfgs"),
    ]:
        j, t_process = spinfit("ml", "cv", fr, "--target", "y", "--model", spec, "--cv", "split:3000", "--no-refit")
        # fit + predict, as timed in Python: without starting and reading
        t_ours = j["validation_seconds"]
        def fit_predict():
            model.fit(Xf[tr], yf[tr])
            return model.predict(Xf[te])
        pred, t_theirs = timed(fit_predict)
        print(f"  {name:9} R2 spinfit {held_out(j):.3f}, {tool} {r2_score(yf[te], pred):.3f}; "
              f"{t_ours:.3f} s (whole process {t_process:.2f} s) vs {t_theirs:.3f} s: {speed(t_ours, t_theirs, 1)}")

# ---------------------------------------------------------------- C
if "C" in SECTIONS:
    print("C. SHAP, exact interventional values: spinfit ml explain vs shap ExactExplainer")
    dia = load_diabetes(as_frame=True).frame
    dia.insert(0, "id", [f"r{i}" for i in range(len(dia))])
    dcsv = f"{OUT}/diabetes.csv"
    dia.to_csv(dcsv, index=False)
    Xd, yd = dia.iloc[:, 1:11].to_numpy(float), dia["target"].to_numpy(float)
    cases = [
        ("ols", "ols", LinearRegression()),
        ("rf", "rf", RandomForestRegressor(n_jobs=-1, random_state=0)),
        ("gbt", "gbt", XGBRegressor(tree_method="hist")),
        ("ann 10x10", "ann:hidden=10x10", scaled(MLPRegressor(hidden_layer_sizes=(10, 10), solver="lbfgs", random_state=0))),
    ]
    if not QUICK:
        cases.append(("svr", "svr", scaled(SVR())))
    # the sheet's explanations take milliseconds: each side's best of 3 runs
    for label, Xs, ys, csv, target, bg, goal, reps in [
        ("442 x 10 (diabetes), background 100", Xd, yd, dcsv, "target", 100, 10, 1),
        ("52 x 8 (the sheet), background all rows, best of 3 runs each", X, y, srr, "rate", len(y), 100, 3),
    ]:
        print(f"  {label}:")
        for name, spec, model in cases:
            args = ["ml", "explain", csv, "--target", target, "--model", spec, "--background", str(bg)]
            if csv == srr:
                args += ["--features", F8]
            runs = [spinfit(*args) for _ in range(reps)]
            j, t_process = min(runs, key=lambda r: r[0]["explain_seconds"])
            # the explanation alone on both sides (shap's model is trained first)
            t_ours = j["explain_seconds"]
            model.fit(Xs, ys)
            masker = shap.maskers.Independent(Xs, max_samples=bg)
            t_theirs = min(timed(lambda: shap.explainers.Exact(model.predict, masker)(Xs, silent=True))[1]
                           for _ in range(reps))
            print(f"    {name:9} ({j['method']}): {t_ours:.3f} s (whole process {t_process:.2f} s) "
                  f"vs {t_theirs:.2f} s: {speed(t_ours, t_theirs, goal)}")


# ---------------------------------------------------------------- D
if not QUICK and "D" in SECTIONS:
    print("D. the paper's grid search (36 MLP settings, LOO MSE, 10 descriptors), n_jobs=2")
    j, _ = spinfit("ml", "reproduce", "--sheet", "fixtures/srr/data.xlsx", "--nested")
    g = j["paper_grid_search"]
    d = pd.read_csv(srr)
    X10 = d[g["features"]].to_numpy(float)
    grid = {"regressor__mlpregressor__hidden_layer_sizes": [(20,), (30,), (50,), (100,), (10, 10), (40, 10)],
            "regressor__mlpregressor__activation": ["relu", "tanh"],
            "regressor__mlpregressor__alpha": [1e-4, 1e-3, 1e-2]}
    base = scaled(MLPRegressor(solver="lbfgs", random_state=0))
    search = GridSearchCV(base, grid, cv=LeaveOneOut(), scoring="neg_mean_squared_error", n_jobs=2)
    _, t_search = timed(lambda: search.fit(X10, y))
    print(f"  search: spinfit {g['search_seconds']:.1f} s (best {g['best']}, in-sample R2 {g['in_sample_r2']:.3f}), "
          f"scikit-learn {t_search:.1f} s (best {search.best_params_}, in-sample R2 "
          f"{r2_score(y, search.predict(X10)):.3f}): {t_search / g['search_seconds']:.1f}x")
    inner = GridSearchCV(base, grid, cv=KFold(5, shuffle=True, random_state=44),
                         scoring="neg_mean_squared_error", n_jobs=2)
    pred, t_nested = timed(lambda: cross_val_predict(inner, X10, y, cv=LeaveOneOut()))
    print(f"  nested: spinfit {g['nested_seconds']:.1f} s (held-out R2 {g['nested_r2']:.3f}), "
          f"scikit-learn {t_nested:.1f} s (held-out R2 {r2_score(y, pred):.3f}): {t_nested / g['nested_seconds']:.1f}x")
print(f"machine: {os.cpu_count()} cores; times are wall seconds of one run")
sys.exit(1 if failed else 0)
