/* The free-text query parser: dates, times, type labels and names. */
#include "fuzz.h"
#include "timeexpr.h"
#include "eaudit.h"

#include <stdlib.h>
#include <string.h>

static int labels(void *payload, size_t i, int *code, const char **label) {
  (void)payload;
  if (i >= 15)
    return EAUDIT_DONE;
  *code = (int)i + 1;
  *label = eaudit_type_label((int)i + 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static eaudit__tz *tz;
  if (tz == NULL && eaudit__tz_open(&tz, "Europe/Berlin"))
    abort();
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  eaudit__search s;
  memset(&s, 0, sizeof s);
  if (eaudit__search_parse(tz, text, INT64_C(1793000000000000), labels, NULL,
                           &s) == 0) {
    if (s.n_words > EAUDIT__SEARCH_MAX_PARTS ||
        s.n_tod > EAUDIT__SEARCH_MAX_PARTS ||
        s.n_type_sets > EAUDIT__SEARCH_MAX_PARTS)
      abort();
  }
  eaudit__search_clear(&s);
  free(text);
  return 0;
}
