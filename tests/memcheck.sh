#!/bin/sh
# memcheck.sh - the C unit tests under valgrind, as tests of `make test`.
#
# Each unit test program runs once under memcheck; a memory error or a leak makes it a
# failure ("not ok") with valgrind's summary as diagnostics. The programs' own results
# are counted where they run natively; here only valgrind's verdict counts.
#
# Usage: tests/memcheck.sh PROGRAM...
set -u
status=0
for t in "$@"; do
	name=$(basename "$t")
	log=$(mktemp "${TMPDIR:-/tmp}/nanti-memcheck.XXXXXX")
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file="$log" "$t" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq 99 ]; then
		echo "not ok - $name runs clean under valgrind"
		sed 's/^/# /' "$log" | head -40
		status=1
	else
		echo "ok - $name runs clean under valgrind"
	fi
	rm -f "$log"
done
exit $status
