"""Compare spinfit's models with scikit-learn on the same data and split.

Usage: python scripts/compare_sklearn.py DATASET.csv DIR
where DIR holds `spinfit ml cv DATASET.csv --cv loo --json` outputs named
MODEL.json (ols, svr, rf, gbt, ann), all on the same features.
- OLS: leave-one-out predictions must agree to 1e-8.
- SVR (same C, epsilon, gamma, standardised inputs and target): predictions
  must agree closely (max difference < 2 % of the target's spread).
- Random forest, boosted trees, MLP: different random streams and tree
  builders, so compared statistically: held-out R2 side by side.
"""
import json
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
    "ann": scaled(MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", alpha=1.0, max_iter=400, random_state=0)),
}
failed = False
print(f"{len(y)} rows, {p} features, leave-one-out")
for name, model in theirs.items():
    mine = np.array([q["held_out_prediction"] for q in ours[name]["predictions"]], float)
    pred = cross_val_predict(model, X, y, cv=LeaveOneOut())
    diff = np.max(np.abs(pred - mine))
    r2_ours, r2_theirs = r2_score(y, mine), r2_score(y, pred)
    line = f"  {name:4}: held-out R2 spinfit {r2_ours:6.3f}, scikit-learn {r2_theirs:6.3f}; max |prediction difference| {diff:.2e}"
    if name == "ols":
        good = diff < 1e-8
        line += f" (bar 1e-8) -> {'AGREE' if good else 'DISAGREE'}"
    elif name == "svr":
        good = diff < 0.02 * np.std(y)
        line += f" (bar {0.02 * np.std(y):.3f}) -> {'AGREE' if good else 'DISAGREE'}"
    else:
        good = True
        line += " (statistical comparison)"
    failed |= not good
    print(line)
sys.exit(1 if failed else 0)
