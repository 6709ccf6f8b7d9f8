#!/usr/bin/env bash
# Regenerate tests/data/asv_results: run the toy benchmarks with asv on three commits
# of a throwaway git repository (on the first one, a benchmark fails).
# Needs paramcheck importable from the current python. Takes a few minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/asv.conf.json" "$here/benchmarks" "$work/"
cd "$work"
# asv keeps machine descriptions in $HOME/.asv-machine.json: keep the toy's out of yours.
export HOME="$work"
git init -q -b main
git -c user.name=toy -c user.email=toy@example.invalid commit -q --allow-empty -m root
asv machine --yes --machine toybox >/dev/null
for n in 1 2 3; do
    # The first commit carries a bug that makes peakmem_register fail (see bench_toy.py).
    if [ "$n" = 1 ]; then touch benchmarks/BROKEN; else rm -f benchmarks/BROKEN; fi
    git add -A
    # One commit a day, so the history has distinct, reproducible dates.
    export GIT_AUTHOR_DATE="2025-01-0${n}T12:00:00Z" GIT_COMMITTER_DATE="2025-01-0${n}T12:00:00Z"
    git -c user.name=toy -c user.email=toy@example.invalid commit -q --allow-empty -m "commit $n"
    # asv run exits 2 when a benchmark fails, as planted on the first commit.
    asv run --environment existing:python --machine toybox \
        --set-commit-hash "$(git rev-parse HEAD)" >/dev/null || [ $? -eq 2 ]
done
rm -rf "$here/../asv_results"
cp -r .asv/results "$here/../asv_results"

# The same workload under pytest-benchmark, trimmed: the raw samples and the CPU flags
# are dropped (the report reads neither).
cd "$here"
python -m pytest pytest_bench_toy.py -q -p no:cacheprovider -p no:xdist \
    --benchmark-json="$work/pytest_benchmark.json" >/dev/null
python - "$work/pytest_benchmark.json" "$here/../pytest_benchmark.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
data["machine_info"].get("cpu", {}).pop("flags", None)
for bench in data["benchmarks"]:
    bench["stats"].pop("data", None)
with open(sys.argv[2], "w") as out:
    json.dump(data, out, indent=2, sort_keys=True)
    out.write("\n")
PY
