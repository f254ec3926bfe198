#!/usr/bin/env bash
# make bench: gwwatchd against the same pipeline in plain Python (numpy,
# scipy.signal.welch, h5py; bench/pipeline.py) on the same 20 files of 64 s
# at 16384 Hz float64, in the same run (each side three times, alternating,
# and the medians compared); then the reprocessing of those
# archives, the ASD of one such file, and the filters, resampling and trends
# of the processing chain against scipy (bench/chains.py) on the same data;
# the same batch with the ASD only, beside the tutorial's way in Python and
# the time dd conv=fsync takes to write the same bytes; the peak memory of
# one large file of each kind (256 MiB of float64 and of int16 samples, and
# a frame file of 1000 channels made by scripts/framegen), and many small
# files (bench/smallfiles.sh).
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
# config NAME [TOML]: a configuration of its own archive root, state and
# audit log under $out, with TOML appended.
config() {
  cat >"$out/$1.toml" <<TOML
[daemon]
state_dir = "$out/$1-state"
[archive]
root = "$out/$1"
[audit]
path = "$out/$1-audit.log"
${2:-}
TOML
}
config bench
cat "$out/bench.toml" testdata/config/reprocess.toml >"$out/reprocess.toml"

# The batch is timed three times on each side, the runs alternating, and
# the median of each side is reported: one run of a few seconds on a
# shared machine, a disk's fsync most of all, varies by more than the
# figures compared. Run 1 of gwwatchd archives into $out/bench, which the
# reprocessing below reads; the other runs' outputs are removed after the
# last run.
reps=3
noasd='[processing.spectrogram]
enabled = false'
for r in $(seq $reps); do
  go=bench; [ "$r" = 1 ] || { go=go$r; config "$go"; }
  config asd$r "$noasd"
  mkdir -p "$out/dd$r"
  sync
  /usr/bin/time -f "%e %M" -o "$out/go.$r.time" "$bin" ingest --config "$out/$go.toml" "${files[@]}" >"$out/go.$r.log" 2>"$out/go.$r.err"
  sync
  /usr/bin/time -f "%e %M" -o "$out/py.$r.time" "$py" bench/pipeline.py "$out/py$r" "${files[@]}" >"$out/py.$r.json"
  sync
  /usr/bin/time -f "%e %M" -o "$out/goasd.$r.time" "$bin" ingest --config "$out/asd$r.toml" "${files[@]}" >/dev/null 2>"$out/goasd.$r.err"
  sync
  /usr/bin/time -f "%e %M" -o "$out/pyasd.$r.time" "$py" bench/pipeline.py --asd-only "$out/pyasd$r" "${files[@]}" >/dev/null
  sync
  /usr/bin/time -f "%e %M" -o "$out/dd.$r.time" bash -c 'for f in "${@:2}"; do dd if="$f" of="$1/${f##*/}" bs=4M conv=fsync status=none; done' _ "$out/dd$r" "${files[@]}"
done
# Removed only now: freeing their blocks would go on beside the next runs.
for r in $(seq $reps); do
  [ "$r" = 1 ] || rm -rf "$out/go$r" "$out/go$r-state" "$out/go$r-audit.log"
  rm -rf "$out/py$r" "$out/asd$r" "$out/asd$r-state" "$out/asd$r-audit.log" "$out/pyasd$r" "$out/dd$r"
done
# median NAME COLUMN: the median over the runs of $out/NAME.*.time of
# COLUMN 1 (seconds) or 2 (peak RSS, kB).
median() {
  for r in $(seq $reps); do cat "$out/$1.$r.time"; done | awk -v c="$2" '{ print $c }' | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# runs NAME: the seconds of each run, in order.
runs() {
  for r in $(seq $reps); do read -r sec _ <"$out/$1.$r.time"; printf '%s%s' "${sep:-}" "$sec"; sep=" "; done
  sep=
}
archived=$(find "$out/bench" -name "*.h5" -printf "%s\n" | awk "{ s += \$1 } END { print s }")
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

go_s=$(median go 1) go_kb=$(median go 2)
py_s=$(median py 1) py_kb=$(median py 2)
read -r re_s re_kb <"$out/re.time"
goasd_s=$(median goasd 1) pyasd_s=$(median pyasd 1) dd_s=$(median dd 1)
py_asd=$("$py" -c 'import json,sys; print(min(json.load(open(f))["asd_seconds"] for f in sys.argv[1:]))' "$out"/py.*.json)
go_asd_ns=$(awk '/^BenchmarkASD64s16384/ {print $3}' "$out/asd.txt" | sort -n | head -1)

awk -v n=${#files[@]} -v bytes="$bytes" -v one="$one" -v gs="$go_s" -v gk="$go_kb" -v ps="$py_s" -v pk="$py_kb" \
    -v ga="$go_asd_ns" -v pa="$py_asd" -v rs="$re_s" -v rk="$re_kb" -v am="$archived" \
    -v gas="$goasd_s" -v pas="$pyasd_s" -v dds="$dd_s" -v reps="$reps" \
    -v gr="$(runs go)" -v pr="$(runs py)" -v gar="$(runs goasd)" -v par="$(runs pyasd)" -v ddr="$(runs dd)" 'BEGIN {
  mb = bytes / 1e6
  printf "archive %d files of 64 s at 16384 Hz float64 (%.1f MB in all, %.1f MB each); medians of %d runs, alternating\n", n, mb, one / 1e6, reps
  printf "  %-22s %8s %10s %14s   %s\n", "", "seconds", "MB/s", "peak RSS MB", "each run, s"
  printf "  %-22s %8.2f %10.1f %14.1f   %s\n", "gwwatchd ingest", gs, mb / gs, gk / 1024, gr
  printf "  %-22s %8.2f %10.1f %14.1f   %s\n", "python (numpy+scipy)", ps, mb / ps, pk / 1024, pr
  printf "  speed-up %.2fx (target >= 4x)\n", ps / gs
  printf "the same files with the ASD only (no spectrogram)\n"
  printf "  %-22s %8.2f %10.1f   %s\n", "gwwatchd ingest", gas, mb / gas, gar
  printf "  %-22s %8.2f %10.1f   %s\n", "python, tutorial way", pas, mb / pas, par
  printf "  %-22s %8.2f %10.1f   %s\n", "dd conv=fsync", dds, mb / dds, ddr
  printf "  gwwatchd %.2fx faster than python; %.2fx the time of dd conv=fsync (target <= 1.5x)\n", pas / gas, gas / dds
  printf "reprocess those %d archives (%.1f MB): an ASD of fftlength 2 s and a band-pass 30-200 Hz with its ASD\n", n, am / 1e6
  printf "  %-22s %8s %10s %14s %14s\n", "", "seconds", "archives/s", "MB/s", "peak RSS MB"
  printf "  %-22s %8.2f %10.1f %14.1f %14.1f\n", "gwwatchd reprocess", rs, n / rs, am / 1e6 / rs, rk / 1024
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

echo "peak memory archiving one large file (default processing)"
go run ./scripts/synth -dir "$out/mem-f64" -n 1 -duration 2048 -fs 16384 >/dev/null
go run ./scripts/synth -dir "$out/mem-i16" -n 1 -duration 8192 -fs 16384 -dtype int16 >/dev/null
mkdir -p "$out/mem-gwf"
go run ./scripts/framegen -out "$out/mem-gwf/X-SYNTH-1300000000-16.gwf" >"$out/mem-gwf.txt"
read -r _ gwf_bytes gwf_samples <"$out/mem-gwf.txt"
memrow() { # label, file, samples, target in MB
  /usr/bin/time -f "%e %M" -o "$out/mem.time" "$bin" ingest --config "$out/bench.toml" --out "$out/mem-out" "$2" >/dev/null 2>"$out/mem.err"
  read -r s kb <"$out/mem.time"
  awk -v l="$1" -v n="$3" -v kb="$kb" -v s="$s" -v t="$4" 'BEGIN {
    printf "  %-44s %9.1f MB  %7.2f s  (target <= %.1f MB)\n", l, kb * 1024 / 1e6, s, t }'
}
f64=("$out"/mem-f64/*.npy)
i16=("$out"/mem-i16/*.npy)
n64=$(( ($(wc -c <"${f64[0]}") - 128) / 8 ))
n16=$(( ($(wc -c <"${i16[0]}") - 128) / 2 ))
memrow "float64 .npy, 256 MiB" "${f64[0]}" "$n64" "$(awk -v n="$n64" 'BEGIN { print 2 * 8 * n / 1e6 + 50 }')"
memrow "int16 .npy, 256 MiB" "${i16[0]}" "$n16" "$(awk -v n="$n16" 'BEGIN { print 2 * 8 * n / 1e6 + 50 }')"
memrow "$(awk -v b="$gwf_bytes" -v n="$gwf_samples" 'BEGIN { printf "frame file, 1000 channels, %.0f MB, %.0f M samples", b / 1e6, n / 1e6 }')" \
  "$out/mem-gwf/X-SYNTH-1300000000-16.gwf" "$gwf_samples" 450

if [ -f bench/smallfiles.sh ]; then
  bash bench/smallfiles.sh "$bin"
fi

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
