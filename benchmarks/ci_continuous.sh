#!/usr/bin/env bash
# CI benchmark step (`tox run -e asv`, called by .ci/run): asv continuous from HEAD's parent
# to HEAD on a small, stable subset, then the full comparison table.
#
# Fails (non-zero exit) when a benchmark errors (asv exit 2) or a ratio of the subset got
# worse by more than FACTOR (asv exit 1). The subset holds track_ ratios only: each is two
# costs measured together in one process (lower is better), so it does not depend on the
# machine's speed; the saved-bytes ratios are exact. FACTOR was chosen by running HEAD
# against HEAD repeatedly on a 2-core machine (see the benchmarks section of README.md):
# an unchanged commit must never trip it.
#
# Environment overrides: ASV_MACHINE (default ci), ASV_FACTOR, ASV_BENCH (a regex over
# benchmark names), ASV_BASE / ASV_HEAD (commits to compare; default HEAD^ and HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."

machine="${ASV_MACHINE:-ci}"
factor="${ASV_FACTOR:-1.5}"
bench="${ASV_BENCH:-^(ratios|memory\.SavedBytes)\.}"
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
    "$base" "$head"
status=$?
set -e

echo
echo "All benchmarks of the subset, ${base:0:8} -> ${head:0:8} (ratio = head / base):"
asv compare --machine "$machine" --factor "$factor" "$base" "$head" || true

case $status in
    0) verdict="no regression beyond x$factor" ;;
    1) verdict="REGRESSION: a ratio above got worse by more than x$factor" ;;
    2) verdict="BENCHMARK ERROR: see the asv output above" ;;
    *) verdict="asv failed (exit $status)" ;;
esac
echo "ci_continuous: $verdict (asv took $((SECONDS - started)) s)"
exit "$status"
