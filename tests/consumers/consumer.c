/* A downstream program, built against an installed libentryfy-audit.
 *
 * What it checks: that the installed headers compile in a consumer with
 * warnings as errors, that the library it was linked with (shared or static)
 * resolves and answers, and that the run-time version matches the headers
 * it was compiled with. Each entry of `checks` is one call into the
 * installed library; add one line per public function worth proving. */
#include <eaudit.h>

#include <stdio.h>
#include <string.h>

static int version_matches(void) {
  return eaudit_version_number() == EAUDIT_VERSION_NUMBER &&
         strcmp(eaudit_version_string(), EAUDIT_VERSION_STRING) == 0;
}

static int strerror_knows_codes(void) {
  return strcmp(eaudit_strerror(EAUDIT_EINVAL), "unknown error") != 0 &&
         strcmp(eaudit_strerror(12345), "unknown error") == 0;
}

static int error_last_never_null(void) {
  const eaudit_error *e = eaudit_error_last();
  return e != NULL && e->message != NULL;
}

static const struct {
  const char *name;
  int (*run)(void);
} checks[] = {
    {"version_matches", version_matches},
    {"strerror_knows_codes", strerror_knows_codes},
    {"error_last_never_null", error_last_never_null},
};

int main(void) {
  int failed = 0;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    int ok = checks[i].run();
    printf("%s %s\n", ok ? "ok  " : "FAIL", checks[i].name);
    failed += !ok;
  }
  return failed != 0;
}
