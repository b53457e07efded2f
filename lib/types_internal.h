/* Lookups over the built-in code tables. */
#ifndef EAUDIT_TYPES_INTERNAL_H
#define EAUDIT_TYPES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

int eaudit__type_builtin(int code);
int eaudit__reason_valid(int64_t code);
int eaudit__credential_valid(int64_t code);
size_t eaudit__builtin_type_count(void);
int eaudit__builtin_type_at(size_t i, int *code, const char **name,
                            const char **label);

#endif
