#!/usr/bin/env bash
# One GPU, one go: the CUDA items of the property suite and the CUDA asv benchmarks (peak
# memory and compiled steps included), written to reports/cuda/, within 8 minutes on one GPU.
#
#     bash benchmarks/gpu.sh --dry-run     # any machine, CPU only: the plan and its time
#     bash benchmarks/gpu.sh               # a machine with CUDA: run it
#
# Uses the current python (PYTHON=...), which must have torch with CUDA, hypothesis, pytest,
# pytest-xdist and asv (the `test` and `bench` extras): nothing is installed, since a GPU
# machine may reach no package registry. paramcheck comes from this checkout's src/.
#
# Writes reports/cuda/: properties.log (pytest's output) and properties.md (its summary),
# results/ (asv results, machine "cuda"), benchmarks/ (`paramcheck report` of them) and
# plan.md (the plan, with the GPU and torch it ran on). Nothing else is touched.
#
# The estimate: seconds per item measured on CPU runs of this project (see
# benchmarks/README.md, "GPU"), scaled by the items counted here; a CUDA item costs more
# than a CPU one (kernel launches, synchronisation), hence the factors below.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

dry_run=0
for arg in "$@"; do
    case "$arg" in
        --dry-run) dry_run=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "gpu.sh: unknown argument $arg (use --dry-run or nothing)" >&2; exit 2 ;;
    esac
done

python="${PYTHON:-python3}"
out="$root/reports/cuda"
workers="${GPU_WORKERS:-8}"   # pytest-xdist workers sharing the one GPU
budget=480                    # seconds: the 8 minutes of the issue
export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
export PARAMCHECK_PROFILE="${PARAMCHECK_PROFILE:-ci}" MPLBACKEND=Agg
# The CUDA combinations alone: benchmarks/_grid.py skips every other device cheaply.
export PARAMCHECK_BENCH_DEVICES=cuda
bench='^(read\.ReadCost|ratios\.(ImplementationRatio|CachedRatio)|overhead\.ForwardBackward|memory\.PeakMemory|compiled\.CompiledStep)\.'

# -- the plan: count what will run ------------------------------------------------------
for tool in pytest asv; do
    "$python" -c "import $tool" 2>/dev/null || { echo "gpu.sh: $python lacks $tool (pip install -e '.[test,bench]')" >&2; exit 2; }
done
items="$("$python" -m pytest properties -q --collect-only -k cuda -p no:cacheprovider \
    -p no:xdist 2>/dev/null | grep -c '::' || true)"
read -r combos inductor < <("$python" - "$bench" <<'PY'
# The CUDA combinations of the selected asv benchmarks (PeakMemory is CUDA-only), less the
# plain twins that setup skips for impl != "paramcheck".
import itertools, re, sys
sys.path.insert(0, ".")
from benchmarks import compiled, memory, overhead, ratios, read
pattern = re.compile(sys.argv[1])
combos = inductor = 0
for module in (read, ratios, overhead, memory, compiled):
    short = module.__name__.rsplit(".", 1)[-1]
    for cls in [c for c in vars(module).values() if getattr(c, "__module__", "") == module.__name__]:
        for method in [m for m in vars(cls) if m.startswith(("time_", "track_"))]:
            if not pattern.search(f"{short}.{cls.__name__}.{method}"):
                continue
            for combo in itertools.product(*getattr(cls, "params", ())):
                values = dict(zip(cls.param_names, combo))
                on_cuda = values.get("device") == "cuda" or cls.__name__ == "PeakMemory"
                twin = values.get("mode") == "plain" and values.get("impl") not in (None, "paramcheck")
                if on_cuda and not twin:
                    combos += 1
                    inductor += values.get("backend") == "inductor"
print(combos, inductor)
PY
)
# Seconds: a property item on CPU takes ~0.13 s of one worker (1543 items, 2 workers, 99 s);
# on CUDA count 0.25 s. An asv combination (forkserver, one process, 3 samples) ~1 s: a fork,
# setup (a layer, a warm-up) and 3 samples of ~10 ms each (asv's sample_time); an
# inductor compile with Triton ~30 s; starting, discovery and the report ~40 s.
est_props=$(( (items * 25 / 100 + workers - 1) / workers + 15 ))
est_asv=$(( (combos - inductor) + inductor * 30 + 30 ))
est_report=10
total=$(( est_props + est_asv + est_report ))
plan="$(cat <<TXT
# CUDA run plan (benchmarks/gpu.sh)

| step | what | items | estimate |
| --- | --- | ---: | ---: |
| 1 | pytest properties -k cuda, profile $PARAMCHECK_PROFILE, -n $workers | $items | ${est_props} s |
| 2 | asv run (existing env, forkserver, 1 process, 3 samples) on CUDA combinations of $bench | $combos ($inductor inductor) | ${est_asv} s |
| 3 | paramcheck report --results reports/cuda/results --out reports/cuda | 1 | ${est_report} s |
|   | total (budget ${budget} s) | | ${total} s |
TXT
)"
echo "$plan"
if [ "$total" -gt "$budget" ]; then
    echo "gpu.sh: the estimate (${total} s) is over the ${budget} s budget" >&2
fi
if [ "$dry_run" = 1 ]; then
    echo
    echo "gpu.sh: dry run, nothing run. Would write $out/{plan.md,properties.log,properties.md,results/,benchmarks/}."
    exit 0
fi

# -- the run -----------------------------------------------------------------------------
"$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
    echo "gpu.sh: no CUDA device visible to torch: nothing to run (try --dry-run)" >&2; exit 2; }
mkdir -p "$out"
gpu="$("$python" -c 'import torch; print(torch.cuda.get_device_name(0), "· torch", torch.__version__)')"
{ echo "$plan"; echo; echo "Ran on: $gpu, $(date -u +%Y-%m-%dT%H:%MZ)"; } > "$out/plan.md"
started=$SECONDS

set +e
"$python" -m pytest properties -k cuda -n "$workers" -p no:cacheprovider -q -rfE \
    2>&1 | tee "$out/properties.log"
props_status=${PIPESTATUS[0]}
{
    echo "# CUDA items of the property suite"
    echo
    echo "\`pytest properties -k cuda\`, profile $PARAMCHECK_PROFILE, on $gpu: exit status $props_status"
    echo "(0: every item passed). Summary:"
    echo
    echo "    $(tail -n 1 "$out/properties.log")"
} > "$out/properties.md"
props_s=$((SECONDS - started))

asv machine --yes --machine cuda >/dev/null
asv run --environment "existing:$(command -v "$python" || echo "$python")" --machine cuda \
    --set-commit-hash "$(git rev-parse HEAD)" --launch-method forkserver \
    -a processes=1 -a repeat=3 --show-stderr --bench "$bench"
asv_status=$?
rm -rf "$out/results" && mkdir -p "$out/results"
cp .asv/results/benchmarks.json "$out/results/" && cp -r .asv/results/cuda "$out/results/"
"$python" -c 'import sys; from paramcheck._cli import main; sys.exit(main(sys.argv[1:]))' \
    report --results "$out/results" --out "$out"
set -e
echo "gpu.sh: properties ${props_s} s (exit $props_status), asv exit $asv_status, total $((SECONDS - started)) s; wrote $out"
[ "$props_status" = 0 ] && [ "$asv_status" -le 2 ]
