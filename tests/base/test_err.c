/* Error details (base/err.h): a detail can wrap the one before it. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"

Test(err, a_detail_wraps_the_previous_one) {
    mc_err_set(MC_ERR_INVALID, "holds %d of %d", 20, 40);
    int rc = mc_err_set(MC_ERR_INVALID, "certificate: %s", mc_err_detail());
    cr_assert_eq(rc, MC_ERR_INVALID);
    cr_assert_str_eq(mc_err_detail(), "certificate: holds 20 of 40");
    rc = mc_err_set(MC_ERR_DB, "storing block %d failed: %s", 7, mc_err_detail());
    cr_assert_str_eq(mc_err_detail(), "storing block 7 failed: certificate: holds 20 of 40");
}
