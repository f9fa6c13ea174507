# A test build of the node whose consensus driver, when the environment
# sets MEDCHAIN_TEST_EQUIVOCATE, signs a second, conflicting prevote for
# every prevote (see src/node/driver.c). tests/integration/test_cluster.c
# runs it as one validator and checks that honest nodes catch it.
EQV_DIR := $(BUILD)/equivocator
EQV_BIN := $(EQV_DIR)/medchain

$(EQV_DIR)/driver.o: src/node/driver.c $(wildcard src/*/*.h) | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMC_TEST_EQUIVOCATE -c $< -o $@

$(EQV_BIN): $(EQV_DIR)/driver.o $(CLI_OBJ) $(filter-out $(BUILD)/obj/src/node/driver.o,$(LIB_OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

test: $(EQV_BIN)
TEST_ENV += MEDCHAIN_EQUIVOCATOR=$(abspath $(EQV_BIN))
