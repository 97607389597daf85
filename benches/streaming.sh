#!/usr/bin/env bash
# Streamed runs against in-memory runs (DESIGN §8), on a page-cached stack, with the release
# binary: wall time and GB/s of the whole `rumba run` call, medians of interleaved rounds, and a
# plain sequential read of the same file for reference. Also the peak RSS of each streamed run.
#
#   bash benches/streaming.sh [--frames T] [--rounds N] [--graph NAME] [--dir DIR] [--sparse]
#
# Defaults: T = 4096 frames of 512×512 u8 (1 GiB), 3 rounds, background_subtraction, a
# temporary directory. The budget of the streamed run is 1/8 of the stack (at most 4 GiB).
# Put --dir on a tmpfs (/dev/shm) to time rumba rather than the disk: every streamed run
# fsyncs its outputs before the commit. The long run of issue 9 is `--frames 4096` (1 GiB)
# and, for a stack larger than memory, `--frames 160000 --sparse --graph envelope` (40 GB as
# a sparse file: a header and a hole that reads as zeros, so it takes no disk space; its
# in-memory runs are skipped when the stack exceeds half of the RAM).
set -euo pipefail
cd "$(dirname "$0")/.."
frames=4096 rounds=3 graph=background_subtraction dir="" sparse=0
while [ $# -gt 0 ]; do
  case "$1" in
    --frames) frames=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --graph) graph=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --sparse) sparse=1; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet -p rumba-cli
bin=target/release/rumba
[ -n "$dir" ] || dir=$(mktemp -d)
mkdir -p "$dir"
stack="$dir/stack.npy"
bytes=$((frames * 512 * 512))
if [ ! -f "$stack" ] || [ "$(stat -c %s "$stack")" -lt "$bytes" ]; then
  python3 - "$stack" "$frames" "$sparse" <<'PY'
import struct, sys, random
path, t, sparse = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
d = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d, 512, 512, 1), }" % t
total = (10 + len(d) + 1 + 63) // 64 * 64
h = b'\x93NUMPY\x01\x00' + struct.pack('<H', total - 10) + d.encode() + b' ' * (total - 10 - len(d) - 1) + b'\n'
random.seed(1)
frame = random.randbytes(512 * 512)
with open(path, 'wb') as f:
    f.write(h)
    if sparse:
        f.truncate(len(h) + t * 512 * 512)
        t = 0
    for i in range(t):
        f.write(frame[i % 97:] + frame[:i % 97])
PY
fi
budget=$((bytes / 8)); [ "$budget" -le $((4 << 30)) ] || budget=$((4 << 30))
ram=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024 ))
in_memory=1; [ "$bytes" -le $((ram / 2)) ] || in_memory=0
now() { date +%s.%N; }
declare -a t_read t_mem t_stream t_whole rss
[ "$in_memory" = 0 ] || cat "$stack" > /dev/null  # page-cache it
for r in $(seq "$rounds"); do
  a=$(now); dd if="$stack" of=/dev/null bs=8M status=none; b=$(now); t_read+=("$(echo "$b - $a" | bc)")
  if [ "$in_memory" = 1 ]; then
    a=$(now); "$bin" run "examples/graphs/$graph.json" --input "x=$stack" --quiet >/dev/null; b=$(now)
    t_mem+=("$(echo "$b - $a" | bc)")
  fi
  rm -rf "$dir/out"
  a=$(now)
  m=$( { /usr/bin/time -f %M "$bin" run "examples/graphs/$graph.json" --input "x=$stack" --output "$dir/out" --memory-budget "$budget" --quiet >/dev/null; } 2>&1 | tail -1)
  b=$(now); t_stream+=("$(echo "$b - $a" | bc)"); rss+=("$m")
  rm -rf "$dir/out"
  if [ "$in_memory" = 1 ]; then
    a=$(now); "$bin" run "examples/graphs/$graph.json" --input "x=$stack" --output "$dir/out" --memory-budget 64GiB --quiet >/dev/null; b=$(now)
    t_whole+=("$(echo "$b - $a" | bc)")
    rm -rf "$dir/out"
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.3f–%.3f", lo, hi}'; }
gb=$(echo "scale=3; $bytes / 1000000000" | bc)
cached="page-cached"; [ "$in_memory" = 1 ] || cached="larger than half the RAM, not cached"
[ "$sparse" = 0 ] || cached="$cached, sparse"
echo "stack: $frames×512×512 u8 ($gb GB, $cached), graph $graph, budget $budget bytes, $rounds rounds"
for k in read mem stream whole; do
  eval "vals=(\"\${t_$k[@]}\")"
  [ "${#vals[@]}" -gt 0 ] || continue
  m=$(median "${vals[@]}")
  printf '%-8s median %7.3f s (%s)  %6.2f GB/s of input\n' "$k" "$m" "$(spread "${vals[@]}")" "$(echo "scale=3; $gb / $m" | bc)"
done
echo "streamed peak RSS (KiB): ${rss[*]}"
m_stream=$(median "${t_stream[@]}")
echo "streamed throughput / plain read: $(echo "scale=3; $(median "${t_read[@]}") / $m_stream" | bc)"
if [ "$in_memory" = 1 ]; then
  echo "streamed throughput / in-memory (outputs not written): $(echo "scale=3; $(median "${t_mem[@]}") / $m_stream" | bc)"
  echo "streamed throughput / in-memory writing the same files: $(echo "scale=3; $(median "${t_whole[@]}") / $m_stream" | bc)"
fi
echo "(read: dd of the file in 8 MiB blocks; mem: run in memory, outputs not written; stream: --output within the"
echo " budget; whole: --output with a budget that holds the run, one chunk per kernel)"
