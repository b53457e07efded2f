/* Reports, export and import: sinks, encoders and the summary sources
 * (findings, expired permissions) shared by the writers. */
#ifndef EAUDIT_REPORT_INTERNAL_H
#define EAUDIT_REPORT_INTERNAL_H

#include "query_internal.h"

#include <stdio.h>
#include <string.h>

struct eaudit_report_options {
  int format; /* 0: the call's default */
  int neutralize;
  int has_actor;
  int64_t actor;
  int record;
  int batch;
  int summary;
  char *hostname, *appname, *title;
  eaudit_progress_fn progress;
  void *progress_payload;
};

#define EAUDIT__SINK_CAP 65536

enum { EAUDIT__SINK_FILE = 1, EAUDIT__SINK_FD, EAUDIT__SINK_FN };

struct eaudit_sink {
  int kind;
  FILE *fp;
  int fd;
  eaudit_write_fn fn;
  void *payload;
  int err; /* sticky: the first failure, reported by every later call */
  size_t len;
  uint64_t total;
  char buf[EAUDIT__SINK_CAP];
};

/* Write into the sink's buffer; failures are sticky (sink->err) so that
 * writers check once per row. */
int eaudit__sink_write_out(eaudit_sink *k, const void *p, size_t n);
static inline int eaudit__put(eaudit_sink *k, const void *p, size_t n) {
  if (k->len + n <= EAUDIT__SINK_CAP) {
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    k->total += n;
    return k->err;
  }
  return eaudit__sink_write_out(k, p, n);
}
static inline int eaudit__putc(eaudit_sink *k, char c) {
  if (k->len < EAUDIT__SINK_CAP) {
    k->buf[k->len++] = c;
    k->total++;
    return k->err;
  }
  return eaudit__sink_write_out(k, &c, 1);
}
static inline int eaudit__puts(eaudit_sink *k, const char *s) {
  return eaudit__put(k, s, strlen(s));
}
int eaudit__put_i64(eaudit_sink *k, int64_t v);
int eaudit__sink_flush(eaudit_sink *k);
/* A sink appending to a growable buffer (for eaudit_event_to_json). */
int eaudit__sink_memory(eaudit_sink **out, eaudit__buf *b);

/* Escapers. */
void eaudit__put_json_str(eaudit_sink *k, const char *s, size_t n);
void eaudit__put_xml(eaudit_sink *k, const char *s, size_t n);

/* Names as they were at a time, cached in a fixed-size table so that a
 * report's memory does not grow with its events. The table is set
 * associative: (kind, id) picks a set of EAUDIT__NAME_WAYS entries, whose
 * tags share one cache line; on a miss the set's entries give way in turn.
 * Short names are kept in the entry itself, so a hit reads two cache
 * lines (the tags, the entry) and allocates nothing. */
#define EAUDIT__NAME_CACHE 4096 /* entries of a report's table */
#define EAUDIT__NAME_WAYS 4
#define EAUDIT__NAME_INLINE 24
typedef struct eaudit__name_entry {
  int64_t id;
  eaudit_time from, until; /* the name holds on [from, until) */
  char *name;              /* NULL: no name; else text or heap */
  uint32_t len;
  int kind; /* 0: unused */
  char text[EAUDIT__NAME_INLINE];
} eaudit__name_entry;
typedef struct eaudit__names {
  eaudit_store *s;
  sqlite3_stmt *at, *next, *first;
  size_t n_sets;
  uint64_t *tags;          /* n_sets x EAUDIT__NAME_WAYS */
  unsigned char *victim;   /* per set: the way to replace next */
  eaudit__name_entry *e;   /* n_sets x EAUDIT__NAME_WAYS */
} eaudit__names;
/* entries: the table's size (a multiple of EAUDIT__NAME_WAYS; a report
 * takes EAUDIT__NAME_CACHE, a single event a few). */
int eaudit__names_init(eaudit__names *n, eaudit_store *s, size_t entries);
void eaudit__names_free(eaudit__names *n);
/* The name of (kind, id) at t (borrowed until the next call), or NULL;
 * *len (when not NULL) receives its length. */
const char *eaudit__names_get_len(eaudit__names *n, int kind, int64_t id,
                                  eaudit_time t, size_t *len);
static inline const char *eaudit__names_get(eaudit__names *n, int kind,
                                            int64_t id, eaudit_time t) {
  return eaudit__names_get_len(n, kind, id, t, NULL);
}

/* Local times, with the zone offset cached per UTC minute. */
typedef struct eaudit__clockfmt {
  eaudit__tz *tz;
  int64_t minute; /* floor(t / 60 s) of the cached offset */
  int offset;     /* seconds east of UTC */
  int valid;      /* the offset holds for the whole minute */
  int64_t day;    /* floor(t / 1 day) of the cached offset */
  int day_valid;  /* the offset holds for the whole UTC day */
  int date_valid; /* date holds the text of local day date_day */
  int64_t date_day;
  char date[16];
} eaudit__clockfmt;
/* 2026-11-03T15:05:09+01:00 (usec = 0) or 2026-11-03T15:05:09.123456+01:00
 * (usec = 1), or with a space and no offset (plain = 1). */
int eaudit__clockfmt_local(eaudit__clockfmt *c, eaudit_time t, int usec,
                           int plain, char *buf, size_t size);
/* RFC 3339 UTC with microseconds, into a 28-byte buffer, without checks. */
void eaudit__fmt_utc(eaudit_time t, char *buf);

/* One event in the interchange shape (JSON object, no newline). names may
 * be NULL; local, when not NULL, writes occurred_at in the store's zone. */
void eaudit__put_event_json(eaudit_sink *k, eaudit_store *s,
                            const eaudit_event *ev, int flags,
                            eaudit__names *names, eaudit__clockfmt *local);

/* Fill ev (reset first) from one JSON object in the interchange shape;
 * *unknown receives the number of unknown keys. */
int eaudit__event_from_json(eaudit_store *s, const char *p, size_t n,
                            eaudit_event *ev, size_t *unknown);

/* --- event sources: what a report or an export reads, per backend
 * (report_source.c) --- */

/* Begin the one snapshot a report reads in (SQLite: BEGIN DEFERRED;
 * PostgreSQL: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY), unless the
 * handle is inside a transaction already, whose view it then shares.
 * *began says whether to end it; while it lasts, writes through the
 * handle (from a progress callback) are refused as inside a callback. */
int eaudit__report_snapshot_begin(eaudit_store *s, int *began);
/* End it (no error: it only read). */
void eaudit__report_snapshot_end(eaudit_store *s, int began);

/* A stream of events: SQLite statement or PostgreSQL keyset cursor. */
typedef struct eaudit__evsrc {
  eaudit_store *s;
  sqlite3_stmt *st;
  eaudit__pgcur *pg;
} eaudit__evsrc;
/* The events q matches, in q's order and limit (a report passes newest
 * first, no limit, no position). */
int eaudit__evsrc_open_query(eaudit_store *s, const eaudit_query *q,
                             eaudit__evsrc *src);
/* The events of the handle's own chain after seq after_seq, by seq (on the
 * central store seq numbers are per origin: this is eaudit_store_tail's
 * chain). */
int eaudit__evsrc_open_chain(eaudit_store *s, int64_t after_seq,
                             eaudit__evsrc *src);
/* Their number, for the progress callback. */
int eaudit__evsrc_count_chain(eaudit_store *s, int64_t after_seq,
                              uint64_t *out);
int eaudit__evsrc_next_slow(eaudit__evsrc *src, eaudit_event *ev);
int eaudit__evsrc_step_error(eaudit__evsrc *src, int rc);
/* EAUDIT_OK with ev filled, EAUDIT_DONE, or an error. The SQLite step is
 * inline: it runs once per event of the report. The store was checked
 * once on entry, so this skips eaudit_cursor_next()'s fork check. */
static inline int eaudit__evsrc_next(eaudit__evsrc *src, eaudit_event *ev) {
  if (src->st == NULL)
    return eaudit__evsrc_next_slow(src, ev);
  int rc = sqlite3_step(src->st);
  if (rc == SQLITE_ROW)
    return eaudit__event_from_row(src->st, 0, ev) ? eaudit__enomem()
                                                  : EAUDIT_OK;
  if (rc == SQLITE_DONE)
    return EAUDIT_DONE;
  return eaudit__evsrc_step_error(src, rc);
}
/* Safe on a zeroed or failed source. */
void eaudit__evsrc_close(eaudit__evsrc *src);

/* SQLite only: the rollups' counts per user of the whole local days
 * [from, to) matching q's user and types, each row handed to add. */
int eaudit__report_rollup_users(eaudit_store *s, const eaudit_query *q,
                                eaudit_time from, eaudit_time to,
                                int (*add)(void *payload, int64_t key,
                                           int64_t n),
                                void *payload);

/* PostgreSQL only: the name of (kind, id) at t (*name NULL when it has
 * none; the caller frees it), valid on [*from, *until); before its first
 * name, the first name, valid until it starts (as on SQLite). */
int eaudit__pg_name_span(eaudit_store *s, int kind, int64_t id, eaudit_time t,
                         eaudit_time *from, eaudit_time *until, char **name);

/* --- summary sources --- */

/* A finding as the report shows it. Strings are borrowed for the call;
 * any may be NULL. */
typedef struct eaudit__report_finding {
  const char *id;       /* text form of the finding id */
  const char *rule;     /* rule id */
  const char *severity; /* "info", "warning", "critical", ... */
  int has_subject;
  int64_t subject;
  const char *key; /* "subject:42" */
  eaudit_time first_at, last_at;
  const char *state; /* "open", "acknowledged", "resolved" */
  int64_t n_events;  /* events behind it */
} eaudit__report_finding;
typedef int (*eaudit__finding_fn)(const eaudit__report_finding *f,
                                  void *payload);

/* Stream the rules engine's findings that overlap the query's interval
 * (and concern its user, when it has one), oldest first, to fn. */
int eaudit__report_findings(eaudit_store *s, const eaudit_query *q,
                            eaudit__finding_fn fn, void *payload);

/* An entity whose permissions are expired now. */
typedef struct eaudit__report_expired {
  int kind; /* EAUDIT_KIND_USER or EAUDIT_KIND_GROUP */
  int64_t id;
  eaudit_time expired_at;
} eaudit__report_expired;
typedef int (*eaudit__expired_fn)(const eaudit__report_expired *e,
                                  void *payload);

/* Stream the users (and, without a user filter, groups) whose permissions
 * are expired and not prolonged (eaudit_store_expired()), by kind then id. */
int eaudit__report_expired_each(eaudit_store *s, const eaudit_query *q,
                                eaudit__expired_fn fn, void *payload);

#endif
