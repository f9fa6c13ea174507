/* Transaction type table. */
#include "app/txtypes.h"

#include <string.h>

static const struct { uint16_t type; const char *name; size_t payload_max; } types[] = {
    {MC_TX_ENROLL_MEMBER, "enroll_member", 32 + 1 + 1 + 128},
    {MC_TX_REVOKE_MEMBER, "revoke_member", 32 + 1 + 255},
    {MC_TX_REGISTER_PATIENT, "register_patient", 32 + 64},
    {MC_TX_ROTATE_KEY, "rotate_key", 32 + 64},
};

const char *mc_tx_type_name(uint16_t type) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].name;
    return NULL;
}

uint16_t mc_tx_type_from_name(const char *name) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, name) == 0) return types[i].type;
    return 0;
}

size_t mc_tx_type_payload_max(uint16_t type) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].payload_max;
    return 0;
}
