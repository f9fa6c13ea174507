# Fault injection over real clusters (included by the top-level Makefile).
#
#   make e2e [E2E_SEEDS=1-10] [E2E_SECONDS=60] [E2E_VALIDATORS=4] [E2E_FAULTS=kill,split]
#       runs one seeded schedule of perturbations (kill -9, pause, partitions,
#       WAL truncation, clock offsets, whole-cluster crash) per seed against a
#       real testnet under load, and checks every promise afterwards
#       (tests/e2e/e2e.h). `make test` runs seed 1 for 20 s.
E2E_SEEDS      ?= 1-10
E2E_SECONDS    ?= 60
E2E_VALIDATORS ?= 4
E2E_FAULTS     ?= kill,pause,isolate,split,wal,clock,crash

# A test build whose node forgets the transactions of its latest block on
# every start (src/cli/cmd_node.c, MC_TEST_FORGET_LAST_TXS): the harness must
# catch it (tests/e2e/test_e2e.c).
E2E_FORGET_DIR := $(BUILD)/e2e-forget
E2E_FORGET_BIN := $(E2E_FORGET_DIR)/medchain

$(E2E_FORGET_DIR)/cmd_node.o: src/cli/cmd_node.c $(wildcard src/*/*.h) | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMC_TEST_FORGET_LAST_TXS -c $< -o $@

$(E2E_FORGET_BIN): $(E2E_FORGET_DIR)/cmd_node.o $(filter-out $(BUILD)/obj/src/cli/cmd_node.o,$(CLI_OBJ)) $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# A test build whose read policy ignores revoked grants (src/app/records.c,
# MC_TEST_IGNORE_REVOCATION): run by every node, it must be caught serving
# reads after a committed revocation.
E2E_REVOKE_DIR := $(BUILD)/e2e-revoke
E2E_REVOKE_BIN := $(E2E_REVOKE_DIR)/medchain

$(E2E_REVOKE_DIR)/records.o: src/app/records.c $(wildcard src/*/*.h) | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMC_TEST_IGNORE_REVOCATION -c $< -o $@

$(E2E_REVOKE_BIN): $(E2E_REVOKE_DIR)/records.o $(CLI_OBJ) $(filter-out $(BUILD)/obj/src/app/records.o,$(LIB_OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

test: $(E2E_FORGET_BIN) $(E2E_REVOKE_BIN)
TEST_ENV += MEDCHAIN_E2E_FORGETFUL=$(abspath $(E2E_FORGET_BIN)) MEDCHAIN_E2E_IGNORES_REVOCATION=$(abspath $(E2E_REVOKE_BIN))

.PHONY: e2e
e2e: $(BIN) $(TEST_BIN) $(E2E_FORGET_BIN)
	$(TEST_ENV) MEDCHAIN_E2E_SEEDS=$(E2E_SEEDS) MEDCHAIN_E2E_SECONDS=$(E2E_SECONDS) \
	  MEDCHAIN_E2E_VALIDATORS=$(E2E_VALIDATORS) MEDCHAIN_E2E_FAULTS=$(E2E_FAULTS) MEDCHAIN_E2E_VERBOSE=1 \
	  $(TEST_BIN) --filter 'e2e/seeded_schedules_keep_every_promise'

# A long run at steady load with no perturbations, reporting each node's
# memory and file descriptors and the latency over time (scripts/soak.sh).
#
#   make soak [SOAK_SECONDS=3600] [SOAK_RATE=300] [SOAK_CHUNK=60]
.PHONY: soak
soak: $(BIN)
	@bash scripts/soak.sh
