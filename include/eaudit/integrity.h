/**
 * @file eaudit/integrity.h
 * @brief Tamper evidence: signed checkpoints, verification, retention and backup.
 */
#ifndef EAUDIT_INTEGRITY_H
#define EAUDIT_INTEGRITY_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

EAUDIT_END_DECLS

#endif /* EAUDIT_INTEGRITY_H */
