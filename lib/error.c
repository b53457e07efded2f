/* The per-thread error, return-code texts and logging. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define EAUDIT__MSG_MAX 512

static _Thread_local char tls_message[EAUDIT__MSG_MAX];
static _Thread_local eaudit_error tls_error = {0, 0, 0, NULL};

static eaudit_log_fn log_fn;
static void *log_payload;
static int log_max_level;

const eaudit_error *eaudit_error_last(void) {
  if (tls_error.message == NULL) {
    tls_error.message = tls_message;
    tls_message[0] = '\0';
  }
  return &tls_error;
}

void eaudit_error_clear(void) {
  tls_error.code = 0;
  tls_error.klass = 0;
  tls_error.detail = 0;
  tls_message[0] = '\0';
  tls_error.message = tls_message;
}

int eaudit__error(int code, int klass, int detail, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tls_message, sizeof tls_message, fmt, ap);
  va_end(ap);
  tls_error.code = code;
  tls_error.klass = klass;
  tls_error.detail = detail;
  tls_error.message = tls_message;
  return code;
}

const char *eaudit_strerror(int code) {
  switch (code) {
#define EAUDIT__CODE_MSG(name, value, msg)                                     \
  case value:                                                                  \
    return msg;
    EAUDIT_ERROR_CODES(EAUDIT__CODE_MSG)
#undef EAUDIT__CODE_MSG
  default:
    return "unknown error";
  }
}

const char *eaudit_code_name(int code) {
  switch (code) {
#define EAUDIT__CODE_NAME(name, value, msg)                                    \
  case value:                                                                  \
    return "EAUDIT_" #name;
    EAUDIT_ERROR_CODES(EAUDIT__CODE_NAME)
#undef EAUDIT__CODE_NAME
  default:
    return NULL;
  }
}

const char *eaudit_version_string(void) { return EAUDIT_VERSION_STRING; }

int eaudit_version_number(void) { return EAUDIT_VERSION_NUMBER; }

void eaudit_set_log(eaudit_log_fn fn, int max_level, void *payload) {
  log_fn = fn;
  log_payload = payload;
  log_max_level = max_level;
}

void eaudit__log(int level, const char *fmt, ...) {
  if (log_fn == NULL || level > log_max_level)
    return;
  char msg[EAUDIT__MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_fn(level, msg, log_payload);
}
