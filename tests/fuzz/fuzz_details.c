/* Event details validation: any bytes are a valid JSON object of at most
 * the limit in UTF-8, or refused with EDETAILS, EUTF8 or ETOOBIG. */
#include "fuzz.h"
#include "event_internal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int rc = eaudit__details_validate((const char *)data, size,
                                    EAUDIT_DETAILS_MAX_LIMIT);
  if (!(rc == 0 || rc == EAUDIT_EDETAILS || rc == EAUDIT_EUTF8 ||
        rc == EAUDIT_ETOOBIG || rc == EAUDIT_ENOMEM))
    abort();
  /* The public path: an event carrying them. */
  eaudit_event *ev = NULL;
  if (eaudit_event_new(&ev) == 0) {
    eaudit_event_set_details(ev, (const char *)data, size);
    eaudit_event_free(ev);
  }
  return 0;
}
