/* Stand-in for the login-hour histogram until device recognition
 * (lib/devices.c) defines eaudit__login_hours(); its strong definition
 * replaces this weak one, and this file goes away then. Without a
 * histogram admin_new_device_off_hours has no history and never fires. */
#include "rules_internal.h"

__attribute__((weak)) int eaudit__login_hours(eaudit_store *s, int64_t user,
                                              int64_t counts[24]) {
  (void)s;
  (void)user;
  for (int h = 0; h < 24; h++)
    counts[h] = 0;
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                       "no login history for user %lld", (long long)user);
}
