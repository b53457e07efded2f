/**
 * @file eaudit/report.h
 * @brief Reports, export and import.
 */
#ifndef EAUDIT_REPORT_H
#define EAUDIT_REPORT_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

EAUDIT_END_DECLS

#endif /* EAUDIT_REPORT_H */
