/* The options handle, read by the store when it opens. */
#ifndef EAUDIT_OPTIONS_INTERNAL_H
#define EAUDIT_OPTIONS_INTERNAL_H

#include "internal.h"

#define EAUDIT__OPT_MAX 32

struct eaudit_options {
  int64_t ints[EAUDIT__OPT_MAX + 1];
  char *time_zone;
  eaudit_clock_fn clock;
  void *clock_payload;
  eaudit_random_fn random;
  void *random_payload;
};

/* Fill @p o with the defaults (no allocation; time_zone stays NULL). */
void eaudit__options_defaults(eaudit_options *o);

#endif
