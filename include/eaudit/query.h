/**
 * @file eaudit/query.h
 * @brief Filters, the default view, keyset cursors, the tail cursor, counts,
 *        the users list and time expressions.
 *
 * Every interval is [since, until) on occurred_at. Every query runs on
 * indexes; none scans the whole event table.
 */
#ifndef EAUDIT_QUERY_H
#define EAUDIT_QUERY_H

#include "event.h"

EAUDIT_BEGIN_DECLS

/** Result order. */
typedef enum eaudit_order {
  EAUDIT_ORDER_NEWEST_FIRST = 0, /**< (occurred_at, seq) descending (default) */
  EAUDIT_ORDER_OLDEST_FIRST = 1  /**< (occurred_at, seq) ascending */
} eaudit_order;

/** Size of a buffer that holds any cursor position token, with its NUL. */
#define EAUDIT_POSITION_MAX 64

/** Create a query with no filters, newest first, no limit. */
EAUDIT_EXTERN int eaudit_query_new(eaudit_query **out);

/** Free a query. NULL is fine. */
EAUDIT_EXTERN void eaudit_query_free(eaudit_query *q);

/** Copy a query. */
EAUDIT_EXTERN int eaudit_query_dup(eaudit_query **out, const eaudit_query *q);

/** Filter by a user in a role (eaudit_role). */
EAUDIT_EXTERN int eaudit_query_set_user(eaudit_query *q, int64_t user,
                                        int role);

/** Remove the user filter. */
EAUDIT_EXTERN void eaudit_query_clear_user(eaudit_query *q);

/**
 * Filter to [since, until); either end may be EAUDIT_TIME_NONE (open).
 * EAUDIT_ETIME when since >= until.
 */
EAUDIT_EXTERN int eaudit_query_set_interval(eaudit_query *q, eaudit_time since,
                                            eaudit_time until);

/** Add a type to the type filter (the filter matches any listed type). */
EAUDIT_EXTERN int eaudit_query_add_type(eaudit_query *q, int type);

/** Remove the type filter. */
EAUDIT_EXTERN void eaudit_query_clear_types(eaudit_query *q);

/**
 * Filter by an entity: @p field is EAUDIT_FIELD_DOOR, _GROUP, _DEVICE or
 * _SITE. Setting the same field again replaces the value.
 */
EAUDIT_EXTERN int eaudit_query_set_entity(eaudit_query *q, int field,
                                          int64_t id);

/** Remove an entity filter. */
EAUDIT_EXTERN int eaudit_query_clear_entity(eaudit_query *q, int field);

/**
 * Free text, as a person types it: dates, times of day, type labels and
 * name prefixes, AND-ed (see docs/search.md). NULL or "" removes it.
 */
EAUDIT_EXTERN int eaudit_query_set_text(eaudit_query *q, const char *text);

/** Set the order (eaudit_order). */
EAUDIT_EXTERN int eaudit_query_set_order(eaudit_query *q, int order);

/** At most @p limit results (0: no limit). */
EAUDIT_EXTERN int eaudit_query_set_limit(eaudit_query *q, size_t limit);

/**
 * Resume after a position token from eaudit_cursor_position(). NULL or ""
 * starts from the beginning. EAUDIT_ECURSOR when malformed.
 */
EAUDIT_EXTERN int eaudit_query_set_after(eaudit_query *q, const char *token);

/**
 * The default view: user 1 in any role, over the past month ending at the
 * store's now (same wall-clock time one calendar month ago, in the store's
 * time zone, with the day clamped at month ends), newest first.
 */
EAUDIT_EXTERN int eaudit_store_default_query(eaudit_store *store,
                                             eaudit_query **out);

/** Run a query. The cursor streams results; free it before the store. */
EAUDIT_EXTERN int eaudit_store_query(eaudit_store *store, const eaudit_query *q,
                                     eaudit_cursor **out);

/**
 * The tail cursor: events with seq greater than @p after_seq, in seq order,
 * at most @p limit (0: no limit).
 */
EAUDIT_EXTERN int eaudit_store_tail(eaudit_store *store, int64_t after_seq,
                                    size_t limit, eaudit_cursor **out);

/**
 * Step a cursor: EAUDIT_OK with @p out set to the next event (borrowed,
 * valid until the next step or the cursor's free), EAUDIT_DONE at the end,
 * or a negative error.
 */
EAUDIT_EXTERN int eaudit_cursor_next(eaudit_cursor *cur,
                                     const eaudit_event **out);

/**
 * The name that the entity in @p field (SUBJECT, ACTOR, DOOR, GROUP,
 * DEVICE or SITE) of the current event had when it happened, or NULL.
 * Borrowed until the next step. NULL also when the name could not be read
 * (out of memory, I/O): then this thread's error is set, and a later call
 * tries again; call eaudit_error_clear() first to tell the two apart.
 */
EAUDIT_EXTERN const char *eaudit_cursor_name(eaudit_cursor *cur, int field);

/**
 * Write a token for the position after the last event returned into @p buf
 * (EAUDIT_POSITION_MAX bytes are always enough). Give it to
 * eaudit_query_set_after() to get the next page; pages stay stable while
 * events are appended.
 */
EAUDIT_EXTERN int eaudit_cursor_position(const eaudit_cursor *cur, char *buf,
                                         size_t size);

/** Free a cursor. NULL is fine. */
EAUDIT_EXTERN void eaudit_cursor_free(eaudit_cursor *cur);

/** What counts are grouped by. */
typedef enum eaudit_count_by {
  EAUDIT_COUNT_BY_TYPE = 1, /**< key: the type code */
  EAUDIT_COUNT_BY_DAY = 2,  /**< key: start of the local day (eaudit_time) */
  EAUDIT_COUNT_BY_USER = 3  /**< key: the subject (events with no subject are left out) */
} eaudit_count_by;

/**
 * Count the events a query matches, grouped. Interval, types and a subject
 * filter are answered from rollups kept on append; other filters count
 * matching events through indexes. Keys ascend.
 */
EAUDIT_EXTERN int eaudit_store_counts(eaudit_store *store, const eaudit_query *q,
                                      int by, eaudit_counts **out);

/** Number of groups in a counts result. */
EAUDIT_EXTERN size_t eaudit_counts_size(const eaudit_counts *c);

/** The @p index-th group's key and count. */
EAUDIT_EXTERN int eaudit_counts_get(const eaudit_counts *c, size_t index,
                                    int64_t *key, int64_t *count);

/** Free a counts result. NULL is fine. */
EAUDIT_EXTERN void eaudit_counts_free(eaudit_counts *c);

/**
 * The users list for a picker: users in the directory or seen in events,
 * whose current or past name starts with @p prefix (NULL: all), ordered by
 * id, at most @p limit (0: no limit).
 */
EAUDIT_EXTERN int eaudit_store_users(eaudit_store *store, const char *prefix,
                                     size_t limit, eaudit_users **out);

/** Number of users in a list. */
EAUDIT_EXTERN size_t eaudit_users_size(const eaudit_users *u);

/**
 * The @p index-th user: id, current name (borrowed, NULL when unnamed),
 * role (eaudit_user_role), last activity (EAUDIT_TIME_NONE if none) and
 * whether their permissions are expired now (1) or not (0). Any output
 * pointer may be NULL.
 */
EAUDIT_EXTERN int eaudit_users_get(const eaudit_users *u, size_t index,
                                   int64_t *id, const char **name, int *role,
                                   eaudit_time *last_activity, int *expired);

/** Free a users list. NULL is fine. */
EAUDIT_EXTERN void eaudit_users_free(eaudit_users *u);

/**
 * Resolve a time expression in the store's time zone against @p now
 * (EAUDIT_TIME_NONE: the store's clock). Words name a period:
 * today, yesterday, this-week, last-week, this-month, last-month;
 * a date (2026-11-03) is that day. Instants (now, -2h, -7d, -1mo,
 * 2026-11-03T14:05, RFC 3339 with an offset) give begin == end.
 * EAUDIT_ETIME when the text is not a time expression.
 */
EAUDIT_EXTERN int eaudit_store_parse_time(eaudit_store *store, const char *expr,
                                          eaudit_time now, eaudit_time *begin,
                                          eaudit_time *end);

/** Time formats for eaudit_store_format_time(). */
typedef enum eaudit_time_format {
  EAUDIT_TIME_RFC3339_UTC = 0, /**< 2026-11-03T14:05:09.123456Z */
  EAUDIT_TIME_LOCAL = 1,       /**< 2026-11-03 15:05:09 in the store's zone */
  EAUDIT_TIME_LOCAL_OFFSET = 2 /**< 2026-11-03T15:05:09+01:00 */
} eaudit_time_format;

/** Size of a buffer that holds any formatted time, with its NUL. */
#define EAUDIT_TIME_STRMAX 40

/** Format @p t into @p buf (at least EAUDIT_TIME_STRMAX bytes advised). */
EAUDIT_EXTERN int eaudit_store_format_time(eaudit_store *store, eaudit_time t,
                                           int format, char *buf, size_t size);

EAUDIT_END_DECLS

#endif /* EAUDIT_QUERY_H */
