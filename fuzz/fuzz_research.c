/* libFuzzer target for the research decoders that take outside bytes: the
 * payloads of transaction types 90-97 (app/research.h) and the
 * de-identification of any JSON a record could hold (api/deid.h).
 *
 * The first byte picks the decoder. Properties: nothing crashes; a payload
 * that decodes re-encodes to exactly the same bytes (one canonical form);
 * a de-identified row never carries the input's "id" or free text. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/deid.h"
#include "app/research.h"
#include "app/txtypes.h"
#include "crypto/hash.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_research: property broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mc_crypto_init();
    if (size < 1 || size > 64 * 1024) return 0;
    uint8_t sel = data[0] % 9;
    if (sel < 8) {
        uint16_t type = (uint16_t)(MC_TX_STUDY_REGISTER + sel);
        static struct mc_research_payload p;
        if (mc_research_decode(&p, type, data + 1, size - 1) == 0) {
            struct mc_buf b;
            mc_buf_init(&b, 0);
            mc_research_encode(&b, &p);
            check(!b.err, "re-encode");
            check(b.len == size - 1 && memcmp(b.data, data + 1, b.len) == 0, "canonical round trip");
            mc_buf_deinit(&b);
        }
        return 0;
    }
    json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (!j) return 0;
    struct mc_deid_quasi q;
    mc_deid_demographics(&q, j, 2024);
    json_t *row = mc_deid_record(j, q.over89);
    if (row) {
        check(json_object_get(row, "id") == NULL, "no id released");
        check(json_object_get(row, "text") == NULL && json_object_get(row, "note") == NULL, "no free text");
        char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
        check(s != NULL, "row serialises");
        free(s);
        json_decref(row);
    }
    json_t *qj = mc_deid_quasi_json(&q);
    json_decref(qj);
    json_decref(j);
    return 0;
}
