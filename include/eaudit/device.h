/**
 * @file eaudit/device.h
 * @brief Device recognition: observations, login calls and the devices list.
 */
#ifndef EAUDIT_DEVICE_H
#define EAUDIT_DEVICE_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

EAUDIT_END_DECLS

#endif /* EAUDIT_DEVICE_H */
