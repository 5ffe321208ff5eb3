#!/bin/bash
# How long installing takes, and how big the virtualenv is, per extra: each in a
# fresh virtualenv with an empty pip cache, from a clean clone of this repository.
#   benchmarks/bench_install.sh core live export test
# Prints one line per extra: total seconds, when pip finished resolving (the
# "Installing collected packages" line of the log), the venv's size, and how often
# pip said it was backtracking ("pip is looking at multiple versions").
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
git clone -q "$repo" "$work/clone"
cd "$work"
for extra in "$@"; do
  python3 -m venv "v-$extra"
  spec="$work/clone"; [ "$extra" != core ] && spec="$work/clone[$extra]"
  start=$(date +%s.%N)
  "v-$extra/bin/pip" install --cache-dir "cache-$extra" --log "log-$extra.txt" "$spec" > "out-$extra.txt" 2>&1
  rc=$?
  end=$(date +%s.%N)
  first=$(head -1 "log-$extra.txt" | cut -c1-23)
  resolved=$(grep "Installing collected packages" "log-$extra.txt" | tail -1 | cut -c1-23)
  echo "$extra rc=$rc total=$(echo "$end - $start" | bc)s started=$first resolved=$resolved" \
       "size=$(du -sh "v-$extra" | cut -f1) backtracking=$(grep -c 'pip is looking' "out-$extra.txt")"
  rm -rf "v-$extra" "cache-$extra"
done
rm -rf "$work"
