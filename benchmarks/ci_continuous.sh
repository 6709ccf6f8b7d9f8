#!/usr/bin/env bash
# CI benchmark step (`tox run -e asv`, called by .ci/run): asv continuous from HEAD's parent
# to HEAD on a small, stable subset, then the full comparison table.
#
# Fails (non-zero exit) when a benchmark errors (asv exit 2) or a ratio of the subset got
# worse by more than FACTOR (asv exit 1). The subset holds track_ numbers only, so it does not
# depend on the machine's speed: ratios of two costs measured together in one process, in
# CPU time (lower is better), and the bytes autograd saves, which are exact.
#
# Budget: the whole CI run stays under 20 minutes on 2 cores, this step within ~4. It builds
# a virtualenv (torch from the local wheel), then for each of the two commits a wheel and
# the subset; see benchmarks/README.md ("CI") for the figures measured.
#
# BENCH, the subset (CPU only: CI has no GPU). What can regress in paramcheck's code is the
# parametrize mechanism and the memory a cached read saves; the transforms run the same code
# under both implementations. So:
# - ratios.ReadOverheadRatio, uncached: per read, an uncached read over a plain parameter,
#   both implementations (drifted <= 1.14x HEAD vs HEAD). The cache hit over a plain read
#   (track_cached_over_plain) is left out: both sides take well under a microsecond, and
#   paramcheck's drifted 1.80x (0.29 -> 0.52) between two commits with the same src/ in a CI
#   rehearsal on a machine at load ~4 (2026-12-03). A cache hit that recomputes still trips
#   CachedRatio (0.2 and 0.06 -> ~1) and SavedBytes; the hit's cost stays in the history runs;
# - ratios.ImplementationRatio, identity only: paramcheck's mechanism over torch's, uncached
#   and cached. The other families put the same mechanism under a transform at n = 8, where
#   16 reads take tens of microseconds: they drifted up to 1.38x HEAD vs HEAD on a loaded
#   machine, the family adds nothing a ratio of the mechanism does not show, and each extra
#   ratio is one more chance of a false alarm. They stay in the history runs;
# - ratios.CachedRatio, identity and orthogonal_cayley (a solve): what cached() buys at
#   n = 256 (0.2 and 0.06; a cache that recomputes reads ~1). A heavier transform makes the
#   uncached side long (likely why: on a loaded machine it gets the minimum of only 5 timings);
#   orthogonal_exp drifted 1.30x HEAD vs HEAD in 2 of 5 runs, too close to FACTOR. A broken
#   cache shows anyway in the two CachedRatio kept and in SavedBytes;
# - memory.SavedBytes, every family: exact byte counts, so any change is real.
# Left out: time_ benchmarks (absolute times follow the machine and its load), compiled.*
# and export.* (compiles of seconds to minutes), read.* (the size grid: history runs).
#
# LAUNCH=forkserver: asv imports the benchmark modules (hence torch) once per commit and
# forks a process per combination, instead of a fresh interpreter per combination
# (asv.conf.json's spawn, which CUDA needs). torch runs on one thread (_workloads), so a fork
# carries no OpenMP pool.
#
# FACTOR 1.5: the ratios are minima of 5-25 alternating CPU-time timings, so load inflates
# both sides alike. An unchanged commit against itself (an empty commit on top of HEAD)
# drifted at most 1.16x on this subset in 6 runs on a 2-core machine at load 8-12
# (benchmarks/README.md, "CI"); 1.5 keeps a wide margin over that, while a regression of the
# mechanism still trips it: a cache hit that recomputes (CachedRatio moves 5-16x),
# an uncached read that does twice the work (~2x), more bytes saved for backward (exact).
#
set -euo pipefail
cd "$(dirname "$0")/.."

machine="${ASV_MACHINE:-ci}"
factor="${ASV_FACTOR:-1.5}"
cpu="'cpu'\)\$"
bench="${ASV_BENCH:-^(ratios\.ReadOverheadRatio\.track_uncached_over_plain|ratios\.ImplementationRatio\..*\('identity', '(un)?cached', $cpu|ratios\.CachedRatio\..*\('(identity|orthogonal_cayley)', $cpu|memory\.SavedBytes\.)}"
launch="${ASV_LAUNCH:-forkserver}"
head="$(git rev-parse "${ASV_HEAD:-HEAD}")"
if ! base="$(git rev-parse --verify --quiet "${ASV_BASE:-$head^}")"; then
    echo "ci_continuous: ${head:0:8} has no parent commit: nothing to compare, asv skipped."
    exit 0
fi

started=$SECONDS
asv machine --yes --machine "$machine" >/dev/null

# asv continuous runs both commits in fresh virtualenvs under .asv/ (torch pinned, see
# asv.conf.json) and prints the benchmarks that changed beyond the factor.
set +e
asv continuous --machine "$machine" --factor "$factor" --bench "$bench" --show-stderr \
    --launch-method "$launch" \
    "$base" "$head"
status=$?
set -e

echo
echo "All benchmarks of the subset, ${base:0:8} -> ${head:0:8} (ratio = head / base):"
# (rows of combinations not run, n/a on both sides, left out)
asv compare --machine "$machine" --factor "$factor" "$base" "$head" | grep -Ev '\| n/a +\| n/a ' || true

case $status in
    0) verdict="no regression beyond x$factor" ;;
    1) verdict="REGRESSION: a ratio above got worse by more than x$factor" ;;
    2) verdict="BENCHMARK ERROR: see the asv output above" ;;
    *) verdict="asv failed (exit $status)" ;;
esac
echo "ci_continuous: $verdict (asv took $((SECONDS - started)) s)"
exit "$status"
