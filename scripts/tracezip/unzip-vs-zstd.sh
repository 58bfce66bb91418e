#!/usr/bin/env bash
# CPU time of `autoscope unzip` beside `zstd -d` on the same spans: the trace file is
# zipped, unzipped once to OTLP/JSON, and that JSON compressed with zstd (default
# level); then each decompression runs RUNS times to /dev/null and the medians of
# user+sys seconds are printed with their ratio.
#
#   scripts/tracezip/unzip-vs-zstd.sh TRACE-FILE [RUNS]   (autoscope and zstd on PATH,
#                                                          or AUTOSCOPE=path/to/autoscope)
set -euo pipefail
input=${1:?usage: $0 TRACE-FILE [RUNS]}
runs=${2:-7}
autoscope=${AUTOSCOPE:-autoscope}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$autoscope" zip "$input" -o "$work/spans.tz"
"$autoscope" unzip "$work/spans.tz" -o "$work/spans.json"
zstd -q "$work/spans.json" -o "$work/spans.json.zst"
ls -l "$work/spans.tz" "$work/spans.json" "$work/spans.json.zst" | awk '{print $5, $NF}'

# Median user+sys seconds of each command over $runs runs (getrusage of the children:
# microseconds, where /usr/bin/time rounds to 10 ms).
python3 - "$runs" "$autoscope" "$work" <<'PY'
import resource, statistics, subprocess, sys
runs, autoscope, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def cpu(command):
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)
unzip = cpu([autoscope, "unzip", f"{work}/spans.tz", "-o", "/dev/null"])
zstd = cpu(["zstd", "-q", "-d", "-c", f"{work}/spans.json.zst"])
print(f"unzip {unzip:.3f}s, zstd -d {zstd:.3f}s CPU (median of {runs}); ratio {unzip / zstd:.1f}")
PY
