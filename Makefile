# nanti - the case ledger daemon and its client.
#
#   make run     install missing Debian packages, build, start nantid on ./var/
#   make test    install missing Debian packages, build, run every test
#   make bench   the throughput and latency benchmark, then the timer engine's, then the
#                household register's (docs/bench.md)
#   make demo    a demo county loaded through a fresh nantid, then its coverage (docs/demo.md)
#   make memcheck  the C unit tests under valgrind
#   make install   binaries, the systemd unit, sysusers.d and tmpfiles.d snippets, the
#                  calendars, an example configuration, docs and man pages, under
#                  DESTDIR + PREFIX (default /usr/local) and SYSCONFDIR (default /etc);
#                  make uninstall removes them (docs/operations.md, "Installing")
#
# Everything builds into build/. No downloads at build or test time.

CC      ?= cc
PKGS    := libzmq msgpack lmdb libsystemd libsodium
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lpthread

# Debian packages the build, the tests and the benchmark need.
DEB_PKGS := make gcc pkg-config libzmq3-dev libmsgpack-dev liblmdb-dev libsystemd-dev \
            python3 python3-zmq python3-msgpack procps clang libclang-rt-14-dev valgrind \
            jq curl tzdata systemd man-db groff-base python3-seccomp lmdb-utils \
            libsodium-dev chromium fonts-wqy-zenhei poppler-utils

B := build
PROTO_SRC  := proto/proto.c proto/err.c proto/json.c
DAEMON_SRC := $(filter-out daemon/nantid.c,$(wildcard daemon/*.c))
CLIENT_SRC := $(filter-out clients/nanti.c clients/demo.c,$(wildcard clients/*.c))

PROTO_OBJ  := $(PROTO_SRC:%.c=$(B)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))

VAR      ?= $(CURDIR)/var

# Where `make install` puts things. nantid is built knowing two of them: the calendars
# (NANTI_DATADIR/calendars, after ./calendars) and its configuration file
# (SYSCONFDIR/nanti/nantid.conf); $(B)/paths changes, and the two objects that use them are
# built again, whenever PREFIX or SYSCONFDIR do.
PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
BINDIR       = $(PREFIX)/bin
SBINDIR      = $(PREFIX)/sbin
DATADIR      = $(PREFIX)/share
NANTI_DATADIR = $(DATADIR)/nanti
DOCDIR       = $(DATADIR)/doc/nanti
MANDIR       = $(DATADIR)/man
UNITDIR      = $(PREFIX)/lib/systemd/system
SYSUSERSDIR  = $(PREFIX)/lib/sysusers.d
TMPFILESDIR  = $(PREFIX)/lib/tmpfiles.d
PATH_DEFS    = -DNANTI_DATADIR='"$(NANTI_DATADIR)"' -DNANTI_SYSCONFDIR='"$(SYSCONFDIR)"'

.PHONY: all deps run test bench memcheck fuzz clean demo install uninstall FORCE
all: $(B)/nantid $(B)/nanti $(B)/nanti-demo $(UNIT_TESTS) $(B)/bench/nanti-bench \
     $(B)/bench/nanti-bench-timers $(B)/bench/nanti-bench-households \
     $(B)/bench/nanti-bench-reports

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root, or install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(B)/%.o: %.c $(wildcard include/*.h clients/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PATH_DEFS) $(PKG_CFLAGS) -c -o $@ $<

# rewritten only when the paths change (make compares its time stamp after the recipe)
$(B)/paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PATH_DEFS)' | cmp -s - $@ || echo '$(PATH_DEFS)' >$@
FORCE:
$(B)/daemon/nantid.o $(B)/daemon/config.o: $(B)/paths

$(B)/nantid: $(B)/daemon/nantid.o $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# nanti links the daemon's own storage modules for the admin commands that read or write
# a ledger directly (export, import)
NANTI_DAEMON_OBJ := $(addprefix $(B)/daemon/,chain.o dump.o ledger.o rec.o model.o)
$(B)/nanti: $(B)/clients/nanti.o $(CLIENT_OBJ) $(NANTI_DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the demo county generator (docs/demo.md)
$(B)/nanti-demo: $(B)/clients/demo.o $(PROTO_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(DAEMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the benchmarks (docs/bench.md): throughput and latency; the deadline timer engine; the
# household register
BENCH_LIB := $(B)/tests/bench/benchlib.o
$(B)/tests/bench/bench.o $(B)/tests/bench/bench_timers.o $(B)/tests/bench/bench_households.o \
	$(B)/tests/bench/bench_reports.o $(BENCH_LIB): tests/bench/benchlib.h

$(B)/bench/nanti-bench: $(B)/tests/bench/bench.o $(BENCH_LIB) $(DAEMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/nanti-bench-timers: $(B)/tests/bench/bench_timers.o $(BENCH_LIB) $(DAEMON_OBJ) \
			       $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/nanti-bench-households: $(B)/tests/bench/bench_households.o $(BENCH_LIB) \
				   $(DAEMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/nanti-bench-reports: $(B)/tests/bench/bench_reports.o $(BENCH_LIB) $(DAEMON_OBJ) \
				$(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

run: deps
	$(MAKE) $(B)/nantid $(B)/nanti
	@mkdir -p $(VAR)/lib $(VAR)/run
	exec $(B)/nantid --state-dir $(VAR)/lib --runtime-dir $(VAR)/run

test: deps
	$(MAKE) all $(B)/tests/test_fuzz_request $(B)/tests/test_fuzz_json \
		$(B)/tests/test_fuzz_report $(B)/tests/test_memcheck
	tests/run

bench: deps
	$(MAKE) all
	$(B)/bench/nanti-bench --nantid $(B)/nantid
	@echo
	$(B)/bench/nanti-bench-timers --nantid $(B)/nantid
	@echo
	$(B)/bench/nanti-bench-households --nantid $(B)/nantid --nanti $(B)/nanti
	$(B)/bench/nanti-bench-reports --nantid $(B)/nantid --demo $(B)/nanti-demo

memcheck: deps
	$(MAKE) $(UNIT_TESTS)
	tests/memcheck.sh $(UNIT_TESTS)

# The demo county (docs/demo.md): a fresh nantid on build/demo, loaded with the full
# county by nanti-demo, then the coverage per unit (`nanti coverage` without --by-unit
# names every person missing), the units compared (`nanti report`) and the dashboard
# written to build/demo/dashboard.html; the daemon is stopped at the end and its state is
# kept in build/demo/state.
DEMO_DIR := $(CURDIR)/$(B)/demo
demo: deps
	$(MAKE) $(B)/nantid $(B)/nanti $(B)/nanti-demo
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)/state $(DEMO_DIR)/run
	@set -e; \
	$(B)/nantid --state-dir $(DEMO_DIR)/state --runtime-dir $(DEMO_DIR)/run \
		2>$(DEMO_DIR)/nantid.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	$(B)/nanti-demo --runtime-dir $(DEMO_DIR)/run --scale full >$(DEMO_DIR)/demo.txt || \
		{ cat $(DEMO_DIR)/demo.txt; exit 1; }; \
	cat $(DEMO_DIR)/demo.txt; \
	echo; \
	$(B)/nanti --runtime-dir $(DEMO_DIR)/run coverage --by-unit; \
	echo; \
	$(B)/nanti --runtime-dir $(DEMO_DIR)/run report; \
	$(B)/nanti --runtime-dir $(DEMO_DIR)/run report --html $(DEMO_DIR)/dashboard.html; \
	kill -TERM $$pid; wait $$pid; trap - EXIT; \
	echo; grep '^elapsed' $(DEMO_DIR)/demo.txt | sed 's/^/loaded: /'; \
	echo "nantid stopped cleanly; state in $(DEMO_DIR)/state, log in $(DEMO_DIR)/nantid.log,"; \
	echo "the dashboard in $(DEMO_DIR)/dashboard.html"

# the unit tests under valgrind, as one more test program for tests/run
$(B)/tests/test_memcheck: $(UNIT_TESTS) tests/memcheck.sh
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/memcheck.sh $(UNIT_TESTS)\n' >$@
	chmod +x $@

# ---- fuzzing: clang's libFuzzer with ASan and UBSan (tests/fuzz/) ----
# Three targets: fuzz_request (a request body: decode, validate, apply), fuzz_json (a line
# of an import: the JSON parser, the round trip, records from their export form) and
# fuzz_report (a log replayed by the reports: report.c).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SHORT   ?= 20
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -std=c11 -D_GNU_SOURCE -Iinclude
FUZZ_LIB     := $(DAEMON_SRC) $(PROTO_SRC)
FUZZ_JSON_ARGS := "the JSON parser of import" tests/fuzz/corpus-json tests/fuzz/json.dict \
                  tests/fuzz/regressions-json
FUZZ_REPORT_ARGS := "the report replay" tests/fuzz/corpus-report tests/fuzz/report.dict \
                    tests/fuzz/regressions-report

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(wildcard include/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PATH_DEFS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) \
		-lpthread

# the first two at once (one per core), then the third, FUZZ_SECONDS each
fuzz: deps
	$(MAKE) $(B)/fuzz/fuzz_request $(B)/fuzz/fuzz_json $(B)/fuzz/fuzz_report
	@mkdir -p $(B)/fuzz/corpus $(B)/fuzz/corpus-json $(B)/fuzz/corpus-report \
		$(B)/fuzz/artifacts
	$(B)/fuzz/fuzz_request -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 \
		-dict=tests/fuzz/request.dict -artifact_prefix=$(B)/fuzz/artifacts/ \
		$(B)/fuzz/corpus tests/fuzz/corpus & \
	$(B)/fuzz/fuzz_json -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 \
		-dict=tests/fuzz/json.dict -artifact_prefix=$(B)/fuzz/artifacts/json- \
		$(B)/fuzz/corpus-json tests/fuzz/corpus-json; \
	j=$$?; wait $$!; r=$$?; \
	$(B)/fuzz/fuzz_report -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 \
		-dict=tests/fuzz/report.dict -artifact_prefix=$(B)/fuzz/artifacts/report- \
		$(B)/fuzz/corpus-report tests/fuzz/corpus-report; \
	p=$$?; [ $$j -eq 0 ] && [ $$r -eq 0 ] && [ $$p -eq 0 ]

# the short runs in make test: test programs for tests/run
$(B)/tests/test_fuzz_request: $(B)/fuzz/fuzz_request tests/fuzz/short.sh
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/fuzz/short.sh $(B)/fuzz/fuzz_request $(FUZZ_SHORT)\n' >$@
	chmod +x $@
$(B)/tests/test_fuzz_json: $(B)/fuzz/fuzz_json tests/fuzz/short.sh
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/fuzz/short.sh $(B)/fuzz/fuzz_json $(FUZZ_SHORT) %s\n' \
		'$(FUZZ_JSON_ARGS)' >$@
	chmod +x $@
$(B)/tests/test_fuzz_report: $(B)/fuzz/fuzz_report tests/fuzz/short.sh
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/fuzz/short.sh $(B)/fuzz/fuzz_report $(FUZZ_SHORT) %s\n' \
		'$(FUZZ_REPORT_ARGS)' >$@
	chmod +x $@

# ---- installing (docs/operations.md, "Installing") ----
#
# The files in systemd/, the man pages and the example configuration are written for a
# distribution's layout (PREFIX=/usr, SYSCONFDIR=/etc); they are installed with the paths
# of this PREFIX and SYSCONFDIR, from copies in $(B)/inst/. Docs are installed as they are.
MAN_PAGES := docs/man/nanti.1 docs/man/nantid.conf.5 docs/man/nantid.8
DOCS      := README.md $(wildcard docs/*.md)
INST      := $(addprefix $(B)/inst/,systemd/nantid.service systemd/nanti.sysusers \
	       systemd/nanti.tmpfiles docs/nantid.conf.example $(MAN_PAGES))
SUBST      = sed -e 's|/usr/sbin/nantid|$(SBINDIR)/nantid|g' \
		 -e 's|/usr/bin/nanti|$(BINDIR)/nanti|g' \
		 -e 's|/usr/share/doc/nanti|$(DOCDIR)|g' \
		 -e 's|/usr/lib/systemd/system|$(UNITDIR)|g' \
		 -e 's|/usr/lib/sysusers.d|$(SYSUSERSDIR)|g' \
		 -e 's|/usr/lib/tmpfiles.d|$(TMPFILESDIR)|g' \
		 -e 's|/usr/share/nanti|$(NANTI_DATADIR)|g' \
		 -e 's|/etc/nanti|$(SYSCONFDIR)/nanti|g'

$(B)/install-paths: FORCE
	@mkdir -p $(dir $@)
	@echo "$(SUBST)" | cmp -s - $@ || echo "$(SUBST)" >$@

$(B)/inst/%: % $(B)/install-paths
	@mkdir -p $(dir $@)
	$(SUBST) $< >$@

install: $(B)/nantid $(B)/nanti $(B)/nanti-demo $(INST)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(NANTI_DATADIR)/calendars $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/nanti
	install -m 0755 $(B)/nantid $(DESTDIR)$(SBINDIR)/nantid
	install -m 0755 $(B)/nanti $(B)/nanti-demo $(DESTDIR)$(BINDIR)/
	install -m 0644 $(B)/inst/systemd/nantid.service $(DESTDIR)$(UNITDIR)/nantid.service
	install -m 0644 $(B)/inst/systemd/nanti.sysusers $(DESTDIR)$(SYSUSERSDIR)/nanti.conf
	install -m 0644 $(B)/inst/systemd/nanti.tmpfiles $(DESTDIR)$(TMPFILESDIR)/nanti.conf
	install -m 0644 calendars/*.cal $(DESTDIR)$(NANTI_DATADIR)/calendars/
	install -m 0644 $(B)/inst/docs/nantid.conf.example $(DESTDIR)$(SYSCONFDIR)/nanti/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(B)/inst/docs/man/nanti.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(B)/inst/docs/man/nantid.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(B)/inst/docs/man/nantid.8 $(DESTDIR)$(MANDIR)/man8/

# Removes what install put there; never a nantid.conf, the ledger or the nanti group.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/nantid $(DESTDIR)$(BINDIR)/nanti \
		$(DESTDIR)$(BINDIR)/nanti-demo $(DESTDIR)$(UNITDIR)/nantid.service \
		$(DESTDIR)$(SYSUSERSDIR)/nanti.conf $(DESTDIR)$(TMPFILESDIR)/nanti.conf \
		$(DESTDIR)$(SYSCONFDIR)/nanti/nantid.conf.example \
		$(DESTDIR)$(MANDIR)/man1/nanti.1 $(DESTDIR)$(MANDIR)/man5/nantid.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/nantid.8 \
		$(patsubst %,$(DESTDIR)$(NANTI_DATADIR)/%,$(wildcard calendars/*.cal)) \
		$(patsubst %,$(DESTDIR)$(DOCDIR)/%,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(NANTI_DATADIR)/calendars $(DESTDIR)$(NANTI_DATADIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/nanti 2>/dev/null || true

clean:
	rm -rf $(B)
