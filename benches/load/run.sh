#!/usr/bin/env bash
# Times `arbor load` against LMDB's `mdb_load` on one sorted dump (what `mdb_dump` writes):
# RECORDS records (1,000,000 by default) of 24-byte keys and 150-byte values, each tool RUNS
# times (3 by default) into a new environment, printing each run and the median per tool.
# mdb_load commits every 100 records; `arbor load` every 100,000 unless `--commit-every` says
# otherwise, so both cadences are timed. `arbor load` appends sorted input along the tree's
# right edge by itself; newer mdb_load releases have `-a` for that, Debian 12's (0.9.24) has not,
# so it inserts. Needs python3 and mdb_load (lmdb-utils).
#
#   benches/load/run.sh            # from the repository's root
#   RECORDS=100000 RUNS=1 benches/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${RECORDS:-1000000}
runs=${RUNS:-3}
command -v mdb_load >/dev/null || { echo "mdb_load is needed (apt-get install lmdb-utils)" >&2; exit 1; }
cargo build --release --quiet --features cli --bin arbor
arbor=target/release/arbor
work=$(mktemp -d "${TMPDIR:-/tmp}/arbordb-load.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$records" >"$work/dump" <<'PY'
import random, sys
count = int(sys.argv[1])
rng = random.Random(7)
keys = sorted({rng.randbytes(24) for _ in range(count)})
out = sys.stdout
out.write("VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=4294967296\nHEADER=END\n")
for key in keys:
    out.write(" " + key.hex() + "\n " + rng.randbytes(150).hex() + "\n")
out.write("DATA=END\n")
PY

declare -A times
tools=("arbor load" "arbor load --commit-every 100" "mdb_load")
for run in $(seq "$runs"); do
    for tool in "${tools[@]}"; do
        rm -rf "$work/env" && mkdir "$work/env"
        case "$tool" in
            "arbor load") command=("$arbor" load "$work/env" -f "$work/dump") ;;
            "arbor load --commit-every 100") command=("$arbor" load "$work/env" -f "$work/dump" --commit-every 100) ;;
            "mdb_load") command=(mdb_load -f "$work/dump" "$work/env") ;;
        esac
        sync
        started=$(date +%s.%N)
        "${command[@]}" >/dev/null 2>&1
        seconds=$(awk -v from="$started" -v to="$(date +%s.%N)" 'BEGIN { print to - from }')
        printf 'run %d: %-32s %6.2f s\n' "$run" "$tool" "$seconds"
        times[$tool]+="$seconds "
    done
done
echo
for tool in "${tools[@]}"; do
    median=$(echo "${times[$tool]}" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf 'median of %d: %-32s %6.2f s\n' "$runs" "$tool" "$median"
done
