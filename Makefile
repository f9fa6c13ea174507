# medchain build.
#
#   make            build build/medchain and the library
#   make deps       install the Debian packages the build, tests and demo need
#                   (a quick no-op when everything is present)
#   make test       unit, simulator and integration tests (Criterion); runs the
#                   deps step first
#   make test-s3    the records, research and node suites again with the blob
#                   store on a throwaway Ceph RADOS Gateway
#   make test-large 100 MB attachments through real nodes, on SQLite and on a
#                   RADOS Gateway, with the nodes' peak memory measured
#   make sanitize   the same tests built with ASan+UBSan
#   make test-debug the same tests with debug assertions (MC_VERIFY, -DMC_DEBUG)
#   make fuzz       libFuzzer targets, each run for FUZZ_SECONDS
#   make fuzz-long  every libFuzzer target for an hour
#   make bench      benchmarks (each prints its bound measured in the same run)
#   make bench-statesync-long  state sync against block replay, 1,000,000 transactions
#   make demo       start a local consortium with sample data (deps step first)
#   make demo-stop  stop every node of the demo consortium
#
# Sources are found by glob: every src/<layer>/*.c goes into libmedchain.a
# except the CLI's, every tests/<module>/*.c into the one test binary, every
# fuzz/fuzz_*.c is a fuzz target, every bench/bench_*.c a benchmark. Extra
# targets of a subsystem live in mk/<name>.mk.

PKGS      := libsodium sqlite3 libuv libmicrohttpd jansson libqrencode libcurl libcrypto gnutls
CC        ?= cc
BUILD     ?= build
OPT       ?= -O2
CSTD      := -std=c17 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
             -Wno-unused-parameter
# `make test`, `make demo` and `make sanitize` bring in what is missing first:
# the deps step is an order-only prerequisite of every compile, and the
# pkg-config flags are then read when a recipe runs (after the deps step), not
# when this file is parsed (before it, on a fresh machine).
DEPS_GOALS := test test-s3 test-large demo sanitize e2e
ifneq ($(filter $(DEPS_GOALS),$(MAKECMDGOALS)),)
DEPS_FIRST := deps
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
else
DEPS_FIRST :=
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
endif
CFLAGS    ?=
CFLAGS    += $(CSTD) $(OPT) -g $(WARN) -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS   += $(EXTRA_LDFLAGS)

LIB_SRC   := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC   := $(wildcard src/cli/*.c)
TEST_SRC  := $(wildcard tests/*/*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libmedchain.a
BIN       := $(BUILD)/medchain
TEST_BIN  := $(BUILD)/medchain-tests

.PHONY: bench-statesync-long all deps test test-s3 test-large test-debug unit sanitize fuzz fuzz-long bench demo demo-stop clean
all: $(BIN)

deps:
	@bash scripts/deps.sh

$(BUILD)/obj/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS) $(LDFLAGS)

# The same source as a later release, for the upgrade test
# (tests/integration/test_upgrade.c): only the files that read MC_VERSION
# differ. 999.0.0 is beyond any release this tree will be.
MC_NEXT_VERSION := 999.0.0
NEXT_BIN := $(BUILD)/medchain-next
NEXT_OBJ := $(BUILD)/next/src/cli/main.o $(BUILD)/next/src/node/upgrade.o
$(BUILD)/next/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMC_VERSION='"$(MC_NEXT_VERSION)"' -MMD -MP -c $< -o $@
$(NEXT_BIN): $(filter-out $(BUILD)/obj/src/cli/main.o,$(CLI_OBJ)) $(NEXT_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(filter-out $(BUILD)/obj/src/cli/main.o,$(CLI_OBJ)) $(NEXT_OBJ) $(LIB) $(PKG_LIBS) $(LDFLAGS)

# A disk that fills up, preloaded into a node process by
# tests/integration/test_store_resume.c (never linked into medchain).
DISKFULL_SO := $(BUILD)/test-diskfull.so
$(DISKFULL_SO): tests/support/preload/diskfull.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 -g $(WARN) -shared -fPIC -o $@ $< -ldl

# A dishonest snapshot server (src/node/snapshot.c, MC_TEST_CORRUPT_SNAPSHOTS),
# run as one peer by tests/integration/test_statesync.c.
CORRUPT_DIR := $(BUILD)/test-corrupt-snapshots
CORRUPT_BIN := $(CORRUPT_DIR)/medchain
$(CORRUPT_DIR)/snapshot.o: src/node/snapshot.c $(wildcard src/*/*.h) | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMC_TEST_CORRUPT_SNAPSHOTS -c $< -o $@
$(CORRUPT_BIN): $(CORRUPT_DIR)/snapshot.o $(CLI_OBJ) $(filter-out $(BUILD)/obj/src/node/snapshot.o,$(LIB_OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJ) $(LIB) $(PKG_LIBS) -lcriterion $(LDFLAGS)

# Tests find the medchain binary (integration tests run real nodes) and the
# repository's test data (testdata/, see its README) through the environment.
TESTDATA  ?= $(CURDIR)/testdata
TEST_JOBS ?= 2
TEST_ENV   = MEDCHAIN_BIN=$(abspath $(BIN)) MEDCHAIN_BIN_NEXT=$(abspath $(NEXT_BIN)) \
             MEDCHAIN_DISKFULL_SO=$(abspath $(DISKFULL_SO)) \
             MEDCHAIN_BIN_CORRUPT_SNAPSHOTS=$(abspath $(CORRUPT_BIN)) \
             MEDCHAIN_TESTDATA=$(TESTDATA) \
             MEDCHAIN_ROOT=$(CURDIR) $(TEST_ENV_EXTRA)

# Every FHIR answer the records tests receive is kept in FHIR_EMITTED and
# then checked by an independent FHIR R4 validator (tests/fhir/validate.mjs,
# the official R4 JSON schema; its npm packages come with make deps).
FHIR_EMITTED ?= $(abspath $(BUILD))/fhir-emitted
test: $(BIN) $(NEXT_BIN) $(TEST_BIN) $(DISKFULL_SO) $(CORRUPT_BIN)
	rm -rf $(FHIR_EMITTED) && mkdir -p $(FHIR_EMITTED)
	$(TEST_ENV) MEDCHAIN_FHIR_CAPTURE=$(FHIR_EMITTED) $(TEST_BIN) --jobs=$(TEST_JOBS) $(TEST_ARGS)
	node tests/fhir/validate.mjs --allow-empty $(FHIR_EMITTED)

# Every in-process node of these suites keeps its ciphertext in a bucket of
# a RADOS Gateway started by the test (tests/support/testutil.h).
S3_SUITES := records|records_pending|records_slowloris|records_tls|gate_abuse|rules|synthea|verify_bound|research|research_synthea|deid|vault|tamper|node_txs|ledger
test-s3: $(BIN) $(TEST_BIN)
	MEDCHAIN_TEST_BLOBS=s3 $(TEST_ENV) $(TEST_BIN) --jobs=$(TEST_JOBS) --filter '@($(S3_SUITES))/*' $(TEST_ARGS)

# The attachment suite at full size (plain `make test` runs it with 16 MB).
test-large: $(BIN) $(TEST_BIN)
	MEDCHAIN_TEST_ATTACHMENT_MB=100 $(TEST_ENV) $(TEST_BIN) --jobs=1 --filter 'attachment/*' $(TEST_ARGS)

sanitize:
	$(MAKE) BUILD=build-san OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" \
	  TEST_ENV_EXTRA="LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" test

# Debug assertions: MC_VERIFY checks (src/base/assert.h) compiled in, in a
# build folder of their own so the release objects stay as they are.
test-debug:
	$(MAKE) BUILD=build-debug EXTRA_CFLAGS="-DMC_DEBUG" test

FUZZ_SECONDS ?= 20
fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Every target for an hour (FUZZ_LONG_SECONDS each).
FUZZ_LONG_SECONDS ?= 3600
fuzz-long:
	@bash scripts/fuzz.sh $(FUZZ_LONG_SECONDS)

BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(LDFLAGS)

bench: $(BIN) $(BENCH_BIN)
	@for b in $(BENCH_BIN); do MEDCHAIN_BIN=$(abspath $(BIN)) $$b || exit 1; done

# State sync against block replay on a chain of 1,000,000 transactions
# (`make bench` runs bench_statesync on 20,000); building the chain takes
# about as long as `medchain load` needs for them (over ten minutes).
bench-statesync-long: $(BIN) $(BUILD)/bench/bench_statesync
	MEDCHAIN_BIN=$(abspath $(BIN)) MEDCHAIN_BENCH_STATESYNC_TXS=1000000 $(BUILD)/bench/bench_statesync

demo: $(BIN)
	@MEDCHAIN_BIN=$(abspath $(BIN)) bash scripts/demo.sh

demo-stop:
	@MEDCHAIN_BIN=$(abspath $(BIN)) bash scripts/demo.sh stop

clean:
	rm -rf build build-san build-debug build-fuzz

-include mk/*.mk
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(NEXT_OBJ:.o=.d)
