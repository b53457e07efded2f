/* A store handle opened on a postgresql:// URI: the backend entry points
 * store.c, append.c and integrity.c dispatch to when s->pg is set. Free
 * of libpq types, so that every file may include it; without libpq
 * (EAUDIT_WITH_POSTGRESQL=OFF) open answers EAUDIT_EUNSUPPORTED and the
 * others are never reached. See docs/scale-out.md. */
#ifndef EAUDIT_PG_STORE_H
#define EAUDIT_PG_STORE_H

#include "store_internal.h"

/* Connect, create or migrate the central schema (create option), find or
 * create the central store's own chain and its time zone setting (zone:
 * the one to record when the database has none). Fills s->pg,
 * s->store_id, s->tz and s->tz_name. */
int eaudit__pg_store_open(eaudit_store *s, const char *uri, const char *zone);
/* Close the connection (not after fork(): the child leaves the parent's
 * session alone) and free s->pg. */
void eaudit__pg_store_free(eaudit_store *s);
/* The own chain's head seq. */
int eaudit__pg_store_last_seq(eaudit_store *s, int64_t *out);
/* Every event in the database, of every origin. */
int eaudit__pg_store_event_count(eaudit_store *s, int64_t *out);
/* Record the store's time zone (eaudit.settings) and switch to it. */
int eaudit__pg_store_set_time_zone(eaudit_store *s, const char *zone);
/* Append validated events to the own chain in one transaction, then
 * notify subscribers. On failure nothing is written, the events are left
 * unassigned and *failed names the failing event. */
int eaudit__pg_store_append(eaudit_store *s, eaudit_event *const *evs, size_t n,
                            size_t *failed);
/* The same for import: events whose id is stored already are skipped;
 * fresh[0..*n_fresh) lists those appended (and notified). */
int eaudit__pg_store_append_new(eaudit_store *s, eaudit_event *const *evs,
                                size_t n, eaudit_event **fresh,
                                size_t *n_fresh);
/* eaudit__write_guard, then EAUDIT_ECORRUPT when the database has no
 * own chain to write to. */
int eaudit__pg_write_checks(eaudit_store *s);
/* A write of another module around an append of the own chain, as
 * eaudit__txn_begin_write / eaudit__append_locked / eaudit__txn_end_write
 * on SQLite (rules.c: rule changes, re-evaluation): begin takes the
 * chain's lock (after making sure of the events' partitions), end commits
 * or rolls back, then notifies subscribers and the rules. */
int eaudit__pg_store_write_begin(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n);
int eaudit__pg_store_append_locked(eaudit_store *s, eaudit_event *const *evs,
                                   size_t n);
int eaudit__pg_store_write_end(eaudit_store *s, int rc,
                               eaudit_event *const *evs, size_t n);
/* The rules hook of a PostgreSQL append (rules.c): evaluate the appended
 * events evs[idx[0..n)], in seq order, inside the append transaction. */
int eaudit__rules_pg_on_append(eaudit_store *s, eaudit_event *const *evs,
                               const size_t *idx, size_t n);
/* The origin the rules engine's statements bind as $o (rules_sql.h): a
 * shipped origin while the rules evaluate its events, or NULL for the own
 * chain's again. */
void eaudit__pg_store_rules_origin(eaudit_store *s, const uint8_t *origin);
/* Take a shipped origin's lock (the one its shipper holds) until the end
 * of the transaction. */
int eaudit__pg_store_lock_origin(eaudit_store *s, const uint8_t origin[16]);
/* Shipping under the central store's rules (pg_ship.c). On a handle of
 * the central store: *out = 1 when it holds a rule set of its own (set
 * with eaudit_store_set_rules) with a rule enabled, and the engine then
 * keeps it for the evaluations below; 0 when shipped events are not
 * evaluated. */
int eaudit__rules_ship_ready(eaudit_store *s, int *out);
/* The same answer, without the warnings about rules shipped events
 * cannot feed (retention asks it). */
int eaudit__rules_ship_active(eaudit_store *s, int *out);
/* Inside a ship batch's transaction on s's connection, holding the
 * origin's lock, after its events went in: evaluate evs[i] with fresh[i]
 * set (those inserted now), in seq order, with the origin's own rule
 * state, local days in zone (the site's time zone). Findings are written
 * in the same transaction; no subscriber hears of them. */
int eaudit__rules_ship_eval(eaudit_store *s, const uint8_t origin[16],
                            const char *zone, eaudit_event *evs, size_t n,
                            const uint8_t *fresh);
/* Before a purge (pg_retention.c): write every rule state that a
 * catch-up would rebuild from the events, in a transaction of its own. */
int eaudit__rules_pg_before_purge(eaudit_store *s);
/* The same as eaudit__pg_store_append with a module's writes first:
 * fn(s, payload, &k) runs inside the transaction (after BEGIN, before the
 * own chain's lock) and sets k <= n, the events to append (0: none; the
 * transaction still commits fn's writes). A failure of fn rolls back
 * everything. fn may run twice (a retry after a dropped partition).
 * *appended is k on success; those events are notified. */
int eaudit__pg_store_append_with(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n,
                                 int (*fn)(eaudit_store *s, void *payload,
                                           size_t *n),
                                 void *payload, size_t *appended);
/* The directory of names (pg_names.c), arguments checked by the caller:
 * set (an upsert keyed on kind, entity, valid_from), the name valid at a
 * time (EAUDIT_ENOTFOUND, with no error set, when there is none; *out is
 * the caller's to free) and erase every name of an entity. */
int eaudit__pg_set_name(eaudit_store *s, int kind, int64_t id,
                        const char *name, eaudit_time from);
int eaudit__pg_name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                       char **out);
int eaudit__pg_erase_names(eaudit_store *s, int kind, int64_t id);

#endif
