/**
 * @file eaudit/rules.h
 * @brief Anomaly rules, findings and finding subscribers.
 */
#ifndef EAUDIT_RULES_H
#define EAUDIT_RULES_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

EAUDIT_END_DECLS

#endif /* EAUDIT_RULES_H */
