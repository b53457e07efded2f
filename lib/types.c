/* The code tables of the event model, generated from the X-macros of
 * <eaudit/types.h> so that names and labels cannot drift from the enums. */
#include "internal.h"
#include "types_internal.h"

#include <string.h>

typedef struct code_entry {
  int code;
  const char *name;
  const char *label;
} code_entry;

static const code_entry type_table[] = {
#define ROW(e, code, name, label) {code, name, label},
    EAUDIT_EVENT_TYPES(ROW)
#undef ROW
};

static const code_entry reason_table[] = {
#define ROW(e, code, name, label) {code, name, label},
    EAUDIT_REASONS(ROW)
#undef ROW
};

static const code_entry credential_table[] = {
#define ROW(e, code, name, label) {code, name, label},
    EAUDIT_CREDENTIALS(ROW)
#undef ROW
};

static const code_entry field_table[] = {
#define ROW(e, code, name) {code, name, NULL},
    EAUDIT_FIELDS(ROW)
#undef ROW
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const code_entry *find_code(const code_entry *t, size_t n, int code) {
  for (size_t i = 0; i < n; i++)
    if (t[i].code == code)
      return &t[i];
  return NULL;
}

static int find_name(const code_entry *t, size_t n, const char *name,
                     int *out) {
  if (name == NULL || out == NULL)
    return eaudit__einval("name and out must not be NULL");
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0) {
      *out = t[i].code;
      return EAUDIT_OK;
    }
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "unknown name '%s'", name);
}

const char *eaudit_type_name(int code) {
  const code_entry *e = find_code(type_table, COUNT(type_table), code);
  return e ? e->name : NULL;
}

const char *eaudit_type_label(int code) {
  const code_entry *e = find_code(type_table, COUNT(type_table), code);
  return e ? e->label : NULL;
}

int eaudit_type_from_name(const char *name, int *out) {
  return find_name(type_table, COUNT(type_table), name, out);
}

const char *eaudit_reason_name(int code) {
  const code_entry *e = find_code(reason_table, COUNT(reason_table), code);
  return e ? e->name : NULL;
}

const char *eaudit_reason_label(int code) {
  const code_entry *e = find_code(reason_table, COUNT(reason_table), code);
  return e ? e->label : NULL;
}

int eaudit_reason_from_name(const char *name, int *out) {
  return find_name(reason_table, COUNT(reason_table), name, out);
}

const char *eaudit_credential_name(int code) {
  const code_entry *e =
      find_code(credential_table, COUNT(credential_table), code);
  return e ? e->name : NULL;
}

const char *eaudit_credential_label(int code) {
  const code_entry *e =
      find_code(credential_table, COUNT(credential_table), code);
  return e ? e->label : NULL;
}

int eaudit_credential_from_name(const char *name, int *out) {
  return find_name(credential_table, COUNT(credential_table), name, out);
}

const char *eaudit_field_name(int field) {
  const code_entry *e = find_code(field_table, COUNT(field_table), field);
  return e ? e->name : NULL;
}

int eaudit_field_from_name(const char *name, int *out) {
  return find_name(field_table, COUNT(field_table), name, out);
}

int eaudit_code_at(int table, size_t index, int *out) {
  const code_entry *t;
  size_t n;
  switch (table) {
  case 't':
    t = type_table, n = COUNT(type_table);
    break;
  case 'r':
    t = reason_table, n = COUNT(reason_table);
    break;
  case 'c':
    t = credential_table, n = COUNT(credential_table);
    break;
  case 'f':
    t = field_table, n = COUNT(field_table);
    break;
  default:
    return eaudit__einval("unknown code table '%c'", table);
  }
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  if (index >= n)
    return EAUDIT_DONE;
  *out = t[index].code;
  return EAUDIT_OK;
}

int eaudit__type_builtin(int code) {
  return find_code(type_table, COUNT(type_table), code) != NULL;
}

int eaudit__reason_valid(int64_t code) {
  return code >= 0 && code <= 1000 &&
         find_code(reason_table, COUNT(reason_table), (int)code) != NULL;
}

int eaudit__credential_valid(int64_t code) {
  return code >= 0 && code <= 1000 &&
         find_code(credential_table, COUNT(credential_table), (int)code) !=
             NULL;
}

size_t eaudit__builtin_type_count(void) { return COUNT(type_table); }

int eaudit__builtin_type_at(size_t i, int *code, const char **name,
                            const char **label) {
  if (i >= COUNT(type_table))
    return EAUDIT_DONE;
  *code = type_table[i].code;
  if (name)
    *name = type_table[i].name;
  if (label)
    *label = type_table[i].label;
  return EAUDIT_OK;
}
