#!/usr/bin/env bash
# make bench: gwwatchd against the same pipeline in plain Python (numpy,
# scipy.signal.welch, h5py; bench/pipeline.py) on the same 20 files of 64 s
# at 16384 Hz float64, in the same run; then the reprocessing of those
# archives, the ASD of one such file, and the filters, resampling and trends
# of the processing chain against scipy (bench/chains.py) on the same data.
set -euo pipefail
bin=${1:-bin/gwwatchd}
py=/usr/bin/python3
out=bench/out
rm -rf "$out"
mkdir -p "$out"
go run ./scripts/synth -dir "$out/in" -n 20 -duration 64 -fs 16384 >/dev/null
# GPS 1 seeds the series the processor benchmarks filter (synth.Coloured, seed 1).
chainfile=$(go run ./scripts/synth -dir "$out/chain" -n 1 -duration 64 -fs 16384 -gps 1)
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
cat "$out/bench.toml" testdata/config/reprocess.toml >"$out/reprocess.toml"
sync

/usr/bin/time -f "%e %M" -o "$out/one.time" "$bin" ingest --config "$out/bench.toml" --out "$out/one" "${files[0]}" >/dev/null 2>"$out/one.err"
/usr/bin/time -f "%e %M" -o "$out/go.time" "$bin" ingest --config "$out/bench.toml" "${files[@]}" >"$out/go.log" 2>"$out/go.err"
/usr/bin/time -f "%e %M" -o "$out/py.time" "$py" bench/pipeline.py "$out/py" "${files[@]}" >"$out/py.json"
archived=$(find "$out/go" -name "*.h5" -printf "%s\n" | awk "{ s += \$1 } END { print s }")
/usr/bin/time -f "%e %M" -o "$out/re.time" "$bin" reprocess --config "$out/reprocess.toml" --all >"$out/re.log" 2>"$out/re.err"
added=$(grep -c ': added 3 products (asd@2, bp, bp_asd)$' "$out/re.log" || true)
if [ "$added" != ${#files[@]} ]; then
  echo "reprocess added the products to $added archives of ${#files[@]}:" >&2
  cat "$out/re.log" "$out/re.err" >&2
  exit 1
fi
go test -run '^$' -bench 'BenchmarkASD64s16384$' -benchtime 30x -count 3 ./processor/ >"$out/asd.txt"
for b in '^BenchmarkHighpass64s16384$' '^Benchmark((Bandpass|Resample)64s16384|Trend)$/^(order=[48]|to=4096|stride=60s)$'; do
  go test -run '^$' -bench "$b" -benchtime 5x -count 3 ./processor/
done >"$out/chain.txt"
"$py" bench/chains.py "$chainfile" >"$out/chain.json"

read -r go_s go_kb <"$out/go.time"
read -r py_s py_kb <"$out/py.time"
read -r one_s one_kb <"$out/one.time"
read -r re_s re_kb <"$out/re.time"
py_asd=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["asd_seconds"])' "$out/py.json")
go_asd_ns=$(awk '/^BenchmarkASD64s16384/ {print $3}' "$out/asd.txt" | sort -n | head -1)

awk -v n=${#files[@]} -v bytes="$bytes" -v one="$one" -v gs="$go_s" -v gk="$go_kb" -v ps="$py_s" -v pk="$py_kb" \
    -v ok="$one_kb" -v ga="$go_asd_ns" -v pa="$py_asd" -v rs="$re_s" -v rk="$re_kb" -v am="$archived" 'BEGIN {
  mb = bytes / 1e6
  printf "archive %d files of 64 s at 16384 Hz float64 (%.1f MB in all, %.1f MB each)\n", n, mb, one / 1e6
  printf "  %-22s %8s %10s %14s\n", "", "seconds", "MB/s", "peak RSS MB"
  printf "  %-22s %8.2f %10.1f %14.1f\n", "gwwatchd ingest", gs, mb / gs, gk / 1024
  printf "  %-22s %8.2f %10.1f %14.1f\n", "python (numpy+scipy)", ps, mb / ps, pk / 1024
  printf "  speed-up %.2fx (target >= 3x)\n", ps / gs
  printf "reprocess those %d archives (%.1f MB): an ASD of fftlength 2 s and a band-pass 30-200 Hz with its ASD\n", n, am / 1e6
  printf "  %-22s %8s %10s %14s %14s\n", "", "seconds", "archives/s", "MB/s", "peak RSS MB"
  printf "  %-22s %8.2f %10.1f %14.1f %14.1f\n", "gwwatchd reprocess", rs, n / rs, am / 1e6 / rs, rk / 1024
  printf "peak RSS archiving one file: %.1f MB (target <= %.1f MB: 3 x %.1f MB + 50 MB)\n", ok / 1024, 3 * one / 1048576 + 50, one / 1048576
  printf "ASD of one file (fftlength 4 s, overlap 2 s, median)\n"
  printf "  gwwatchd %.1f ms, scipy %.1f ms in-process: %.2fx\n", ga / 1e6, pa * 1e3, pa * 1e9 / ga
}'

echo "filters, resampling and trends of one 64 s file at 16384 Hz (Go: best of 3 means of 5; scipy sosfiltfilt, resample_poly, numpy: best of 5)"
"$py" -c 'import json,sys; [print(k, v) for k, v in json.load(open(sys.argv[1])).items()]' "$out/chain.json" |
  awk -v mb="$(awk -v o="$one" 'BEGIN { print o / 1e6 }')" '
    NR == FNR { py[$1] = $2; next }
    /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); ns = $3
      if (name ~ /order=4$/) k = "bandpass4"; else if (name ~ /order=8$/) k = "bandpass8"
      else if (name ~ /Highpass/) k = "highpass8"; else if (name ~ /to=4096$/) k = "resample4096"
      else if (name ~ /stride=60s$/) { k = "minutetrend"; ns /= 2 }  # the Go benchmark trends 128 s
      else next
      if (!(k in go) || ns < go[k]) go[k] = ns }
    END {
      split("bandpass4 bandpass8 highpass8 resample4096 minutetrend", order, " ")
      label["bandpass4"] = "bandpass order 4 (30-300 Hz)"; label["bandpass8"] = "bandpass order 8 (30-300 Hz)"
      label["highpass8"] = "highpass order 8 (10 Hz)"; label["resample4096"] = "resample 16384 -> 4096 Hz"
      label["minutetrend"] = "minute trend"
      printf "  %-30s %10s %10s %10s %11s %9s\n", "", "Go ms", "Go MB/s", "Python ms", "Python MB/s", "speed-up"
      for (i = 1; i <= 5; i++) { k = order[i]; g = go[k] / 1e6; p = py[k] * 1e3
        printf "  %-30s %10.1f %10.0f %10.1f %11.0f %8.2fx\n", label[k], g, mb / g * 1e3, p, mb / p * 1e3, p / g }
      print "  (the Go minute trend is timed on 128 s, BenchmarkTrend, and halved)"
    }' /dev/stdin "$out/chain.txt"

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
