/* Users, vendor types and labels on a store opened on a postgresql:// URI
 * (pg_directory.c): the central tables eaudit.users, eaudit.types and
 * eaudit.labels mirror SQLite's users, types and labels (lib/schema.c).
 * Arguments are checked by the callers in directory.c, which keep the
 * logic shared by both backends. Free of libpq types except for the
 * shipping hook. See docs/scale-out.md. */
#ifndef EAUDIT_PG_DIRECTORY_H
#define EAUDIT_PG_DIRECTORY_H

#include "store_internal.h"

/* The version of the central types (eaudit.settings 'types_version', 0
 * when never written): it moves with every change, as SQLite's meta row
 * does, so that handles reload what another handle registered. */
int eaudit__pg_types_version(eaudit_store *s, int64_t *out);
/* Every vendor type (is_label 0: code, name, label) and every label
 * (is_label 1: code, NULL, label), each passed to add. */
int eaudit__pg_types_read(eaudit_store *s,
                          int (*add)(eaudit_store *s, int code,
                                     const char *name, const char *label,
                                     int is_label));
/* Register a vendor type: EAUDIT_EEXISTS when another handle took the
 * code or the name meanwhile. */
int eaudit__pg_type_insert(eaudit_store *s, int code, const char *name,
                           const char *label);
/* Set (label != NULL) or remove a type's label. */
int eaudit__pg_label_write(eaudit_store *s, int code, const char *label);
/* A user's name (as eaudit__pg_set_name) and role, in one transaction;
 * the user joins the users list. */
int eaudit__pg_set_user(eaudit_store *s, int64_t id, const char *name,
                        int role, eaudit_time from);

#ifdef EAUDIT_HAVE_LIBPQ
#include <libpq-fe.h>
/* Shipping: copy the site store's vendor types, labels and user roles
 * into the central tables, inside the caller's transaction (pg_ship.c's
 * names transaction). A type or label the central store already holds
 * for that code is kept; roles are the site's (last shipper wins, as for
 * names). */
int eaudit__pg_ship_directory(eaudit_store *site, PGconn *c);
#endif

#endif
