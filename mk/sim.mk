# Consensus simulator targets (included by the top-level Makefile).
#
#   make sim SEEDS=N [FIRST=S]   run N seeds; ends "sim: N seeds, V violations"
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
MUTANTS       := ignore-lock no-polka-check too-many-byzantine
MUTANT_BINS   := $(MUTANTS:%=$(BUILD)/mutants/%/medchain-sim)

mutant_flag_ignore-lock        := -DMC_MUTANT_IGNORE_LOCK
mutant_flag_no-polka-check     := -DMC_MUTANT_NO_POLKA_CHECK
mutant_flag_too-many-byzantine := -DMC_MUTANT_TOO_MANY_BYZANTINE

.PHONY: sim sim-mutants

$(SIM_BIN): $(SIM_MAIN) $(SIM_CORE) tests/sim/sim.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/sim -o $@ $(SIM_MAIN) $(SIM_CORE) $(LIB) $(PKG_LIBS) $(LDFLAGS)

sim: $(SIM_BIN)
	$(SIM_BIN) --seeds $(SEEDS) --first $(FIRST)

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

sim-mutants: $(MUTANT_BINS)
	@$(foreach m,$(MUTANTS),echo "mutant $(m):" && \
	  $(BUILD)/mutants/$(m)/medchain-sim --seeds $(MUTANT_SEEDS) $(mutant_args_$(m)) \
	    --expect-violation --stop-on-violation || { echo "mutant $(m) NOT caught"; exit 1; } ;) \
	echo "sim-mutants: all $(words $(MUTANTS)) mutants caught"

# The unit tests run the mutant binaries (tests/sim/test_mutants.c), so they
# must exist before the test binary runs.
test: $(MUTANT_BINS)

TEST_ENV += MEDCHAIN_SIM_MUTANTS=$(abspath $(BUILD)/mutants)
