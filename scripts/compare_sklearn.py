"""Compare spinfit's models with scikit-learn on the same data and split.

Usage: python scripts/compare_sklearn.py DATASET.csv DIR
where DIR holds `spinfit ml cv DATASET.csv --cv loo --json` outputs named
MODEL.json (ols, svr, rf, gbt, ann), all on the same features.
- OLS: leave-one-out predictions must agree to 1e-8.
- SVR (same C, epsilon, gamma, standardised inputs and target): predictions
  must agree closely (max difference < 2 % of the target's spread).
- Random forest, boosted trees, MLP: different random streams and tree
  builders, so compared statistically: the held-out R2 over 5 seeds in each
  tool (MODEL-seeds.json from `--seeds 5`), mean and sd side by side; they
  agree when the means differ by less than 2 combined standard deviations
  (or 0.05, whichever is larger, for tools that are deterministic).
  Boosted trees are compared with scikit-learn's GradientBoostingRegressor
  and with xgboost's XGBRegressor (exact tree method, same depth, rate,
  number of trees and L2 leaf penalty lambda = 1 as smartcore's XGRegressor).
"""
import json
import warnings
import sys

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from xgboost import XGBRegressor

warnings.filterwarnings("ignore")  # convergence chatter of the MLP grid; results are compared below

data = pd.read_csv(sys.argv[1])
outdir = sys.argv[2]
ours = {m: json.load(open(f"{outdir}/{m}.json")) for m in ["ols", "svr", "rf", "gbt", "ann"]}
features, target = ours["ols"]["features"], ours["ols"]["target"]
X = data[features].to_numpy(float)
y = data[target].to_numpy(float)
ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
X, y = X[ok], y[ok]
p = X.shape[1]


def scaled(model):
    return TransformedTargetRegressor(regressor=make_pipeline(StandardScaler(), model), transformer=StandardScaler())


theirs = {
    "ols": LinearRegression(),
    "svr": scaled(SVR(C=10.0, epsilon=0.1, gamma=1.0 / p, tol=1e-6)),
    "rf": RandomForestRegressor(n_estimators=300, random_state=7),
    "gbt": GradientBoostingRegressor(n_estimators=200, learning_rate=0.05, max_depth=3, random_state=7),
    "xgb": XGBRegressor(n_estimators=200, learning_rate=0.05, max_depth=3, reg_lambda=1.0, tree_method="exact", random_state=7, n_jobs=1),
    "ann": scaled(MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", alpha=1.0, max_iter=400, random_state=0)),
}
failed = False
print(f"{len(y)} rows, {p} features, leave-one-out")
for name, model in theirs.items():
    mine_name = "gbt" if name == "xgb" else name
    mine = np.array([q["held_out_prediction"] for q in ours[mine_name]["predictions"]], float)
    pred = cross_val_predict(model, X, y, cv=LeaveOneOut())
    diff = np.max(np.abs(pred - mine))
    r2_ours, r2_theirs = r2_score(y, mine), r2_score(y, pred)
    tool = "xgboost" if name == "xgb" else "scikit-learn"
    line = f"  {name:4}: held-out R2 spinfit {r2_ours:6.3f}, {tool} {r2_theirs:6.3f}; max |prediction difference| {diff:.2e}"
    if name == "ols":
        good = diff < 1e-8
        line += f" (bar 1e-8) -> {'AGREE' if good else 'DISAGREE'}"
    elif name == "svr":
        good = diff < 0.02 * np.std(y)
        line += f" (bar {0.02 * np.std(y):.3f}) -> {'AGREE' if good else 'DISAGREE'}"
    else:
        good = True
        line += " (compared over seeds below)"
    failed |= not good
    print(line)

print("over 5 seeds (held-out R2, mean +/- sd):")
for name in ["rf", "gbt", "xgb", "ann"]:
    mine = json.load(open(f"{outdir}/{'gbt' if name == 'xgb' else name}-seeds.json"))["seeds"]
    model = theirs[name]
    r2 = []
    for seed in range(5):
        m = model
        if name == "ann":
            m.regressor.set_params(mlpregressor__random_state=seed)
        else:
            m.set_params(random_state=seed)
        r2.append(r2_score(y, cross_val_predict(m, X, y, cv=LeaveOneOut())))
    r2 = np.array(r2)
    sd = np.hypot(mine["sd"], r2.std(ddof=1))
    bar = max(2 * sd, 0.05)
    good = abs(mine["mean"] - r2.mean()) < bar
    failed |= not good
    print(
        f"  {name:4}: spinfit {mine['mean']:6.3f} +/- {mine['sd']:.3f}, "
        f"{'xgboost' if name == 'xgb' else 'scikit-learn'} {r2.mean():6.3f} +/- {r2.std(ddof=1):.3f}; "
        f"|difference| {abs(mine['mean'] - r2.mean()):.3f} (bar {bar:.3f}) -> {'AGREE' if good else 'DISAGREE'}"
    )

# model selection inside leave-one-out (nested CV) over the same grids as
# `spinfit ml cv --tune` (inner 5-fold), timed in one run each
if len(sys.argv) > 3:
    import time
    from sklearn.model_selection import GridSearchCV, KFold

    timings = json.load(open(sys.argv[3]))
    grids = {
        "svr": (scaled(SVR(gamma=1.0 / p, tol=1e-6)), {"regressor__svr__C": [1.0, 10.0, 100.0], "regressor__svr__epsilon": [0.05, 0.2]}),
        "ann": (
            scaled(MLPRegressor(activation="tanh", solver="lbfgs", max_iter=400, random_state=0)),
            {"regressor__mlpregressor__hidden_layer_sizes": [(4,), (8,)], "regressor__mlpregressor__alpha": [0.1, 1.0, 10.0]},
        ),
    }
    print("nested CV (LOO outside, 5-fold grid search inside), wall time on this machine:")
    for name, (model, grid) in grids.items():
        t0 = time.perf_counter()
        search = GridSearchCV(model, grid, cv=KFold(5, shuffle=True, random_state=1), scoring="neg_mean_squared_error", n_jobs=2)
        pred = cross_val_predict(search, X, y, cv=LeaveOneOut())
        t = time.perf_counter() - t0
        print(
            f"  {name:4}: spinfit {timings[name]:6.2f} s, scikit-learn {t:7.2f} s ({t / timings[name]:.0f}x); "
            f"nested held-out R2 scikit-learn {r2_score(y, pred):.3f}"
        )
sys.exit(1 if failed else 0)
