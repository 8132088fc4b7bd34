#!/usr/bin/python3
"""XGBoost side of the learner benchmark (learnbench.sh).

usage: learnbench_xgb.py TRAIN.csv TEST.csv MODEL_OUT.json THREADS ROUNDS DEPTH
Trains multi:softprob with tree_method=hist on the same records tiertrain
fits, saves the JSON model, and prints one line:
  xgboost threads=N train_s=... cpu_s=... test_accuracy=... peak_rss_mb=... load_rss_mb=...
(load_rss_mb: the process after reading the CSV, before training).
"""
import resource
import sys
import time

import numpy as np
import xgboost as xgb

train, test, out, threads, rounds, depth = sys.argv[1:7]
CLASSES = {"mem": 0, "ssd": 1, "pfs": 2}


def load(path):
    names = open(path).readline().strip().split(",")
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(len(names) - 1), dtype=np.float32)
    lab = np.loadtxt(path, delimiter=",", skiprows=1, usecols=len(names) - 1, dtype=str)
    return X, np.array([CLASSES[v] for v in lab]), names[:-1]


X, y, names = load(train)
load_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
params = {"objective": "multi:softprob", "num_class": 3, "tree_method": "hist", "max_depth": int(depth),
          "eta": 0.3, "lambda": 1, "min_child_weight": 1, "max_bin": 256, "nthread": int(threads)}
t0, c0 = time.time(), time.process_time()
d = xgb.DMatrix(X, label=y, feature_names=names, nthread=int(threads))
bst = xgb.train(params, d, num_boost_round=int(rounds))
secs, cpu = time.time() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
bst.save_model(out)
Xt, yt, _ = load(test)
acc = float((bst.predict(xgb.DMatrix(Xt, feature_names=names)).argmax(axis=1) == yt).mean())
print("xgboost threads=%s train_s=%.2f cpu_s=%.2f test_accuracy=%.4f peak_rss_mb=%.0f load_rss_mb=%.0f" %
      (threads, secs, cpu, acc, peak, load_rss))
