/* Device recognition: what other modules may read (docs/devices.md). */
#ifndef EAUDIT_DEVICES_INTERNAL_H
#define EAUDIT_DEVICES_INTERNAL_H

#include "store_internal.h"

/* The admin login-hour histogram of @p user: counts[h] is how many admin
 * web observations (every admin login, recorded or not) fell in local hour
 * h (0-23) of the store's time zone at the time they were observed. Zero
 * for a user never observed. The counts already include the observation
 * whose event is being appended when called from inside the append
 * transaction (device state is written before the event). */
int eaudit__login_hours(eaudit_store *s, int64_t user, int64_t counts[24]);

#endif
