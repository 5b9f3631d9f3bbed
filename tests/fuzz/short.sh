#!/bin/sh
# short.sh - a short fuzzing run of a libFuzzer target, as one test of `make test`.
#
# First every saved crash in REGRESSIONS (default tests/fuzz/regressions/) is run once (a
# fixed bug stays fixed), then the target fuzzes for SECONDS starting from CORPUS (default
# tests/fuzz/corpus/) with the dictionary DICT (default tests/fuzz/request.dict), in a
# scratch corpus directory so that the committed seeds are never modified. LABEL names
# the target in the tap lines (default "the request decoder"). Prints for tests/run:
#   ok - the request decoder survives its saved regressions
#   ok - the request decoder survives N fuzz runs
# or "not ok - ..." with the sanitizer's summary as "#" lines, and the crashing input kept
# in FUZZ_ARTIFACTS (default build/fuzz/artifacts) to be copied into tests/fuzz/regressions/.
#
# Usage: tests/fuzz/short.sh FUZZER [SECONDS [LABEL CORPUS DICT REGRESSIONS]]
set -u
fuzzer=${1:?usage: short.sh FUZZER [SECONDS [LABEL CORPUS DICT REGRESSIONS]]}
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
label=${3:-the request decoder}
corpus=${4:-$here/corpus}
dict=${5:-$here/request.dict}
regressions=${6:-$here/regressions}
artifacts=${FUZZ_ARTIFACTS:-$here/../../build/fuzz/artifacts}
work=$(mktemp -d "${TMPDIR:-/tmp}/nanti-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$artifacts" "$work/corpus"

# Print the useful part of a libFuzzer log as tap diagnostics.
explain() {
	grep -E 'ERROR|SUMMARY|invariant|runtime error|#[0-9]+ 0x|artifact|Test unit' "$1" |
		head -40 | sed 's/^/# /'
}

regs=$(find "$regressions" -type f ! -name '*.md' 2>/dev/null | sort)
if [ -n "$regs" ]; then
	# shellcheck disable=SC2086  # one argument per file; the names have no spaces
	if "$fuzzer" -rss_limit_mb=512 $regs >"$work/regressions.log" 2>&1; then
		echo "ok - $label survives its saved regressions"
	else
		echo "not ok - $label survives its saved regressions"
		explain "$work/regressions.log"
		exit 1
	fi
fi

"$fuzzer" -max_total_time="$secs" -rss_limit_mb=512 -dict="$dict" \
	-artifact_prefix="$artifacts/" "$work/corpus" "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$work/fuzz.log")
if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
	echo "ok - $label survives $runs fuzz runs"
	exit 0
fi
echo "not ok - $label survives fuzzing (exit $rc; inputs saved in $artifacts)"
explain "$work/fuzz.log"
exit 1
