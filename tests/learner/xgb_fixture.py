#!/usr/bin/python3
"""Train a small XGBoost model and write what the import test compares.

usage: xgb_fixture.py OUTDIR SEED OBJECTIVE [ROWS]
Writes OUTDIR/model.json (save_model), OUTDIR/rows.csv (features, some
missing, header f0..f4 then label) and OUTDIR/proba.csv (XGBoost's own
probabilities for each row, one column per class, 9 significant digits
so float32 values round-trip).  Exits 77 when xgboost is not installed.
"""
import os
import sys

try:
    import numpy as np
    import xgboost as xgb
except ImportError:
    sys.exit(77)

out, seed, objective = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 400
rng = np.random.default_rng(seed)
X = rng.normal(size=(rows, 5)).astype(np.float32)
X[:, 3] = np.round(X[:, 3] * 3)  # a feature with ties
score = X[:, 0] + 0.8 * X[:, 1] * X[:, 2] - 0.5 * X[:, 3]
if objective == "binary:logistic":
    y = (score + 0.3 * rng.normal(size=rows) > 0).astype(int)
    params = {"objective": objective}
else:
    y = np.digitize(score + 0.3 * rng.normal(size=rows), [-0.7, 0.7])
    params = {"objective": objective, "num_class": 3}
# Missing values, so default directions are exercised.
X[rng.random(size=X.shape) < 0.08] = np.nan
params.update({"tree_method": "hist", "max_depth": 4, "eta": 0.3, "seed": seed, "nthread": 1})
bst = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=12)
os.makedirs(out, exist_ok=True)
bst.save_model(os.path.join(out, "model.json"))
p = bst.predict(xgb.DMatrix(X, missing=np.nan), output_margin=False)
if objective == "binary:logistic":
    p = np.stack([1 - p, p], axis=1)
elif objective == "multi:softmax":
    # softmax predicts classes; the probabilities come from softprob on the same trees.
    p = bst.predict(xgb.DMatrix(X, missing=np.nan), output_margin=True)
    p = np.exp(p - p.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
with open(os.path.join(out, "rows.csv"), "w") as f:
    f.write("f0,f1,f2,f3,f4,label\n")
    for r in range(rows):
        f.write(",".join("nan" if np.isnan(v) else "%.9g" % v for v in X[r]) + ",%d\n" % y[r])
with open(os.path.join(out, "proba.csv"), "w") as f:
    for r in range(rows):
        f.write(",".join("%.9g" % v for v in p[r]) + "\n")
