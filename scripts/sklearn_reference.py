"""Reference figures from scikit-learn for spinfit's tests, written to
fixtures/sklearn/ (run by scripts/compare-sklearn; the tests read the copy,
never scikit-learn itself).

mlp_srr_loo.json: leave-one-out held-out R2 of MLPRegressor(solver="lbfgs")
on the paper's sheet (fixtures/srr/data.xlsx as imported by spinfit, the 8
path-B descriptors), inputs and target standardised inside each training set
as spinfit does, one figure per random_state.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
FEATURES = ("dipole_moment_D,mw_g_per_mol,electronegativity,polarisability_bohr3,"
            "tolerance_factor,e_homo_eV,e_lumo_eV,n_layers").split(",")
SETTINGS = [((10, 10), "relu", 1.0), ((40, 10), "tanh", 1.0)]
SEEDS = range(10)


def main(dataset, out):
    d = pd.read_csv(dataset)
    X, y = d[FEATURES].values, d["rate_per_ps"].values
    rows = []
    for hidden, act, alpha in SETTINGS:
        r2 = []
        for s in SEEDS:
            m = TransformedTargetRegressor(
                make_pipeline(StandardScaler(), MLPRegressor(
                    hidden_layer_sizes=hidden, activation=act, alpha=alpha,
                    solver="lbfgs", random_state=s)),
                transformer=StandardScaler())
            r2.append(r2_score(y, cross_val_predict(m, X, y, cv=LeaveOneOut())))
        rows.append({"spinfit_model": "ann:hidden=%s,activation=%s,alpha=%g" % (
            "x".join(map(str, hidden)), act, alpha),
            "heldout_r2_per_seed": r2})
    json.dump({"source": "scikit-learn %s, numpy %s, scripts/sklearn_reference.py"
               % (sklearn.__version__, np.__version__),
               "features": FEATURES, "cv": "leave-one-out", "models": rows},
              open(out, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
