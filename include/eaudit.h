/**
 * @file eaudit.h
 * @brief libentryfy-audit: records, checks and reports the audit events of a
 *        physical access-control system. Including this header gives the
 *        whole public API.
 */
#ifndef EAUDIT_H
#define EAUDIT_H

#include "eaudit/common.h"
#include "eaudit/types.h"
#include "eaudit/options.h"
#include "eaudit/event.h"
#include "eaudit/store.h"
#include "eaudit/query.h"
#include "eaudit/device.h"
#include "eaudit/rules.h"
#include "eaudit/report.h"
#include "eaudit/integrity.h"
#include "eaudit/ship.h"

#endif /* EAUDIT_H */
