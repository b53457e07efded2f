/* Time expressions (eaudit_store_parse_time, shared with the CLI's
 * --since/--until) and RFC 3339, in zones with and without DST. */
#include "fuzz.h"
#include "timeexpr.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static eaudit__tz *zones[3];
  if (zones[0] == NULL &&
      (eaudit__tz_open(&zones[0], "UTC") ||
       eaudit__tz_open(&zones[1], "Europe/Berlin") ||
       eaudit__tz_open(&zones[2], "Australia/Lord_Howe")))
    abort();
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  eaudit_time b, e, t;
  for (int z = 0; z < 3; z++) {
    int rc = eaudit__time_parse(zones[z], text, INT64_C(1793000000000000), &b,
                                &e);
    if (rc == 0 && b > e)
      abort(); /* a period never ends before it starts */
  }
  if (eaudit__rfc3339_parse(text, size, &t) == 0) {
    char buf[64];
    eaudit__rfc3339_format(t, buf, sizeof buf);
  }
  free(text);
  return 0;
}
