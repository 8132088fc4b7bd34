#!/bin/sh
# tiertrain_cli.sh TIERTRAIN FIXTURES: fit and predict from the command
# line on generated records, an XGBoost model through predict, and the
# errors a user sees for bad input.
set -eu
tt=$1
fx=$2
dir=$(mktemp -d /tmp/tiertrain-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# Records: the class follows x and y; z is noise.
awk 'BEGIN { srand(7); print "x,y,z,tier";
  for (i = 0; i < 3000; i++) { x = rand() * 10; y = rand() * 10; z = rand();
    t = (x < 3 && y > 4) ? "mem" : (x * y > 30 ? "ssd" : "pfs");
    printf "%.4f,%.4f,%.4f,%s\n", x, y, z, t } }' > "$dir/r.csv"

"$tt" fit "$dir/r.csv" -o "$dir/m.json" --param rounds=40 --param max_depth=5 > "$dir/fit.out"
grep -q "^validation accuracy 0\.9[5-9]" "$dir/fit.out" || { cat "$dir/fit.out"; echo "validation accuracy too low"; exit 1; }
grep -q "^confusion matrix" "$dir/fit.out"
grep -q "^feature importance" "$dir/fit.out"
test -s "$dir/m.json"

"$tt" predict "$dir/m.json" "$dir/r.csv" --json > "$dir/p.json"
grep -q '"rows": 3000, "accuracy": 0\.9[5-9]' "$dir/p.json" || { cat "$dir/p.json"; exit 1; }
grep -q '"ns_per_row": ' "$dir/p.json"

# An XGBoost model goes through the same command, classes named by position.
"$tt" predict "$fx/xgb-softprob/model.json" "$fx/xgb-softprob/rows.csv" > "$dir/x.out"
grep -q "^model .*: xgboost, 36 trees, 5 features, 3 classes" "$dir/x.out" || { cat "$dir/x.out"; exit 1; }

# Errors name the problem.
if "$tt" fit "$dir/r.csv" -o "$dir/m2.json" --param depth=3 2> "$dir/e1"; then exit 1; fi
grep -q 'unknown parameter "depth"' "$dir/e1"
printf 'x,y,z,tier\n1,2,mem\n' > "$dir/bad.csv"
if "$tt" fit "$dir/bad.csv" -o "$dir/m3.json" 2> "$dir/e2"; then exit 1; fi
grep -q 'bad.csv:2: 3 fields, expected 4' "$dir/e2"
head -c 300 "$dir/m.json" > "$dir/cut.json"
if "$tt" predict "$dir/cut.json" "$dir/r.csv" 2> "$dir/e3"; then exit 1; fi
grep -q 'cut.json: JSON ends early at byte 300 (truncated file?)' "$dir/e3"
if "$tt" frobnicate 2> "$dir/e4"; then exit 1; fi
grep -q 'unknown command "frobnicate"' "$dir/e4"
echo "tiertrain CLI ok"
