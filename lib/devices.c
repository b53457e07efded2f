/* Device recognition (docs/devices.md). */
#include "store_internal.h"

const char eaudit__devices_schema[] = "";

void eaudit__devices_free(eaudit_store *s) { (void)s; }
