# Consensus simulator targets (included by the top-level Makefile).
#
#   make sim SEEDS=N [FIRST=S]   run N seeds; ends "sim: N seeds, V violations"
#   make sim-long [-j2]          SIM_LONG_SEEDS (100,000) seeds from
#                                SIM_LONG_FIRST (1) in chunks of SIM_LONG_CHUNK
#                                (make -jN runs N chunks at once), then every
#                                failing seed and one line "sim-long: N seeds
#                                in C chunks, V violations" (fails if V > 0)
#   make sim-mutants             build each deliberately broken engine and
#                                check that the simulator catches every one
#
# The simulator core (tests/sim/sim.c) is also linked into the Criterion
# binary; its main() lives in tests/sim/cmd/ so it is only built here.
# Mutant objects go to $(BUILD)/mutants/<name>/ and never into the library.

SIM_BIN       := $(BUILD)/sim/medchain-sim
SIM_MAIN      := tests/sim/cmd/sim_main.c
SIM_CORE      := tests/sim/sim.c
CONS_SRC      := $(wildcard src/consensus/*.c)
LIB_NO_CONS   := $(filter-out $(BUILD)/obj/src/consensus/%,$(LIB_OBJ))
SEEDS         ?= 1000
FIRST         ?= 1
MUTANT_SEEDS  ?= 300
MUTANTS       := ignore-lock no-polka-check too-many-byzantine early-valset
MUTANT_BINS   := $(MUTANTS:%=$(BUILD)/mutants/%/medchain-sim)

mutant_flag_ignore-lock        := -DMC_MUTANT_IGNORE_LOCK
mutant_flag_no-polka-check     := -DMC_MUTANT_NO_POLKA_CHECK
mutant_flag_too-many-byzantine := -DMC_MUTANT_TOO_MANY_BYZANTINE
# not the engine but its driver: odd-numbered nodes take a validator set
# change one height early (tests/sim/sim.c, node_valset)
mutant_flag_early-valset       := -DMC_MUTANT_EARLY_VALSET

SIM_LONG_SEEDS ?= 100000
SIM_LONG_FIRST ?= 1
SIM_LONG_CHUNK ?= 5000
SIM_LONG_DIR   := $(BUILD)/sim/long
SIM_LONG_IDS   := $(shell seq 0 $$(( ($(SIM_LONG_SEEDS) - 1) / $(SIM_LONG_CHUNK) )))

.PHONY: sim sim-mutants sim-long $(SIM_LONG_IDS:%=sim-long-chunk-%)

$(SIM_BIN): $(SIM_MAIN) $(SIM_CORE) tests/sim/sim.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/sim -o $@ $(SIM_MAIN) $(SIM_CORE) $(LIB) $(PKG_LIBS) $(LDFLAGS)

sim: $(SIM_BIN)
	$(SIM_BIN) --seeds $(SEEDS) --first $(FIRST)

# One chunk: its seeds, its log. A violation does not stop the other chunks;
# the summary below reports it (and fails).
$(SIM_LONG_IDS:%=sim-long-chunk-%): sim-long-chunk-%: $(SIM_BIN)
	@mkdir -p $(SIM_LONG_DIR)
	@first=$$(( $* * $(SIM_LONG_CHUNK) + $(SIM_LONG_FIRST) )); \
	 count=$$(( $(SIM_LONG_SEEDS) - $* * $(SIM_LONG_CHUNK) )); \
	 [ $$count -gt $(SIM_LONG_CHUNK) ] && count=$(SIM_LONG_CHUNK); \
	 echo "sim-long: seeds $$first..$$(( first + count - 1 ))"; \
	 $(SIM_BIN) --seeds $$count --first $$first > $(SIM_LONG_DIR)/chunk-$*.log 2>&1 || true

sim-long: $(SIM_LONG_IDS:%=sim-long-chunk-%)
	@cat $(SIM_LONG_IDS:%=$(SIM_LONG_DIR)/chunk-%.log) | grep -E "VIOLATION|replay:" || true
	@cat $(SIM_LONG_IDS:%=$(SIM_LONG_DIR)/chunk-%.log) | \
	  awk '/^sim: [0-9]+ seeds, [0-9]+ violations/ { s += $$2; v += $$4; c++ } \
	       END { printf "sim-long: %d seeds in %d chunks, %d violations\n", s, c, v; \
	             exit (v > 0 || s != $(SIM_LONG_SEEDS)) }'

# Each mutant: the consensus sources rebuilt with one switch, the simulator,
# and the library's other objects (never the library's consensus objects).
$(BUILD)/mutants/%/medchain-sim: $(CONS_SRC) $(SIM_MAIN) $(SIM_CORE) tests/sim/sim.h $(LIB_NO_CONS) $(wildcard src/consensus/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(mutant_flag_$*) -Itests/sim -o $@ $(CONS_SRC) $(SIM_MAIN) $(SIM_CORE) \
	  $(LIB_NO_CONS) $(PKG_LIBS) $(LDFLAGS)

# Each mutant runs the fault mix that exposes it, seeds 1..MUTANT_SEEDS,
# stopping at the first violation; not finding one is a failure.
mutant_args_ignore-lock        := --mix all
mutant_args_no-polka-check     := --mix all
mutant_args_too-many-byzantine := --mix byzantine
mutant_args_early-valset       := --mix all

sim-mutants: $(MUTANT_BINS)
	@$(foreach m,$(MUTANTS),echo "mutant $(m):" && \
	  $(BUILD)/mutants/$(m)/medchain-sim --seeds $(MUTANT_SEEDS) $(mutant_args_$(m)) \
	    --expect-violation --stop-on-violation || { echo "mutant $(m) NOT caught"; exit 1; } ;) \
	echo "sim-mutants: all $(words $(MUTANTS)) mutants caught"

# The unit tests run the mutant binaries (tests/sim/test_mutants.c), so they
# must exist before the test binary runs.
test: $(MUTANT_BINS)

TEST_ENV += MEDCHAIN_SIM_MUTANTS=$(abspath $(BUILD)/mutants)
