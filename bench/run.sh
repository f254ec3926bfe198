#!/usr/bin/env bash
# make bench: gwwatchd against the same pipeline in plain Python (numpy,
# scipy.signal.welch, h5py; bench/pipeline.py) on the same 20 files of 64 s
# at 16384 Hz float64, in the same run; then the ASD of one such file.
set -euo pipefail
bin=${1:-bin/gwwatchd}
py=/usr/bin/python3
out=bench/out
rm -rf "$out"
mkdir -p "$out"
go run ./scripts/synth -dir "$out/in" -n 20 -duration 64 -fs 16384 >/dev/null
files=("$out"/in/*.npy)
bytes=$(cat "${files[@]}" | wc -c)
one=$(wc -c <"${files[0]}")
cat >"$out/bench.toml" <<TOML
[daemon]
state_dir = "$out/state"
[archive]
root = "$out/go"
[audit]
path = "$out/audit.log"
TOML
sync

/usr/bin/time -f "%e %M" -o "$out/one.time" "$bin" ingest --config "$out/bench.toml" --out "$out/one" "${files[0]}" >/dev/null 2>"$out/one.err"
/usr/bin/time -f "%e %M" -o "$out/go.time" "$bin" ingest --config "$out/bench.toml" "${files[@]}" >"$out/go.log" 2>"$out/go.err"
/usr/bin/time -f "%e %M" -o "$out/py.time" "$py" bench/pipeline.py "$out/py" "${files[@]}" >"$out/py.json"
go test -run '^$' -bench 'BenchmarkASD64s16384$' -benchtime 30x -count 3 ./processor/ >"$out/asd.txt"

read -r go_s go_kb <"$out/go.time"
read -r py_s py_kb <"$out/py.time"
read -r one_s one_kb <"$out/one.time"
py_asd=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["asd_seconds"])' "$out/py.json")
go_asd_ns=$(awk '/^BenchmarkASD64s16384/ {print $3}' "$out/asd.txt" | sort -n | head -1)

awk -v n=${#files[@]} -v bytes="$bytes" -v one="$one" -v gs="$go_s" -v gk="$go_kb" -v ps="$py_s" -v pk="$py_kb" \
    -v ok="$one_kb" -v ga="$go_asd_ns" -v pa="$py_asd" 'BEGIN {
  mb = bytes / 1e6
  printf "archive %d files of 64 s at 16384 Hz float64 (%.1f MB in all, %.1f MB each)\n", n, mb, one / 1e6
  printf "  %-22s %8s %10s %14s\n", "", "seconds", "MB/s", "peak RSS MB"
  printf "  %-22s %8.2f %10.1f %14.1f\n", "gwwatchd ingest", gs, mb / gs, gk / 1024
  printf "  %-22s %8.2f %10.1f %14.1f\n", "python (numpy+scipy)", ps, mb / ps, pk / 1024
  printf "  speed-up %.2fx (target >= 3x)\n", ps / gs
  printf "peak RSS archiving one file: %.1f MB (target <= %.1f MB: 3 x %.1f MB + 50 MB)\n", ok / 1024, 3 * one / 1048576 + 50, one / 1048576
  printf "ASD of one file (fftlength 4 s, overlap 2 s, median)\n"
  printf "  gwwatchd %.1f ms, scipy %.1f ms in-process: %.2fx\n", ga / 1e6, pa * 1e3, pa * 1e9 / ga
}'

echo "audit log of 1,000,000 archived records (about 1 GB)"
go test -run '^$' -bench 'BenchmarkReplay1M' -benchtime 1x ./audit/ |
  awk '/^BenchmarkReplay1M/ { sub(/-[0-9]+$/, "", $1); sub(/^BenchmarkReplay1M\//, "", $1);
       printf "  %-10s %10.1f ms", $1, $3 / 1e6; if ($6 == "MB/s") printf "  %6.0f MB/s", $5; print "" }'

echo "drop-to-archived latency, 8 MB files at 10 files/s into gwwatchd run (settle 400 ms)"
go test -run '^$' -bench 'BenchmarkDropToArchived' -benchtime 1x ./e2e/ |
  awk '/^BenchmarkDropToArchived/ { sub(/-[0-9]+$/, "", $1); sub(/^BenchmarkDropToArchived\//, "", $1);
       printf "  %-10s p50 %6.0f ms  p99 %6.0f ms  (target p50 <= 450 ms)\n", $1, $3, $5 }'

echo "frame file decoding (ingest/gwf), MB/s of decoded samples"
go test -run '^$' -bench 'BenchmarkDecode' -benchtime 20x -count 3 ./ingest/gwf/ |
  awk '/^BenchmarkDecode/ { sub(/-[0-9]+$/, "", $1); sub(/^BenchmarkDecode/, "", $1); if (!($1 in best) || $5 > best[$1]) best[$1] = $5 }
       END { for (k in best) printf "  %-22s %7.0f MB/s%s\n", k, best[k], (k == "GzipFloat64" ? "  (target >= 200 MB/s)" : "") }' | sort
