"""Compare spinfit's models with scikit-learn on the same data and split.

Usage: python scripts/compare_sklearn.py DATASET.csv SPINFIT_CV.json
where SPINFIT_CV.json is `spinfit ml cv DATASET.csv --model ols --cv loo
--json` on the same features. OLS must agree to 1e-8 (the issue's bar).
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import LeaveOneOut, cross_val_predict

data = pd.read_csv(sys.argv[1])
ours = json.load(open(sys.argv[2]))
target = ours["target"]
X = data[ours["features"]].to_numpy(float)
y = data[target].to_numpy(float)
ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
X, y = X[ok], y[ok]
assert ours["scheme"].startswith("leave-one-out"), "run spinfit with --cv loo"
theirs = cross_val_predict(LinearRegression(), X, y, cv=LeaveOneOut())
mine = np.array([p["held_out_prediction"] for p in ours["predictions"]], float)
diff = np.max(np.abs(theirs - mine))
print(f"OLS leave-one-out predictions, {len(y)} rows, {X.shape[1]} features: "
      f"max |spinfit - scikit-learn| = {diff:.2e} (bar: 1e-8) -> {'AGREE' if diff < 1e-8 else 'DISAGREE'}")
sys.exit(0 if diff < 1e-8 else 1)
