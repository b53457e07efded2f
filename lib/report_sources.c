/* Where the report's summary finds findings and expired permissions.
 *
 * Findings are read from a table named "findings" when the store has one
 * (the rules module creates it). The columns used are looked up by name,
 * so a column that is missing is shown as unknown rather than failing:
 *   id BLOB(16) or TEXT, rule TEXT, severity TEXT or INTEGER,
 *   subject INTEGER (NULL: none), key TEXT, first_at INTEGER (us UTC),
 *   last_at INTEGER (us UTC), state TEXT or INTEGER.
 * A finding is in the report when [first_at, last_at] overlaps the query's
 * interval and, for a query with a user, its subject is that user. The
 * events behind a finding are counted from a table "finding_events" with a
 * column "finding" matching findings.id, when it exists.
 *
 * Expired permissions come from users/groups.expired_at and prolonged_at,
 * which the append path keeps up to date. */
#include "report_internal.h"

static int table_exists(eaudit_store *s, const char *name, int *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      s->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
      -1, &st, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "reading the schema");
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE
             ? EAUDIT_OK
             : eaudit__sqlite_error(s, rc, "reading the schema");
}

static int has_column(eaudit_store *s, const char *table, const char *col,
                      int *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      s->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
      NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "reading the schema");
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE
             ? EAUDIT_OK
             : eaudit__sqlite_error(s, rc, "reading the schema");
}

int eaudit__report_findings(eaudit_store *s, const eaudit_query *q,
                            eaudit__finding_fn fn, void *payload) {
  int exists = 0;
  int rc = table_exists(s, "findings", &exists);
  if (rc || !exists)
    return rc;
  static const char *const cols[] = {"id",  "rule",     "severity",
                                     "subject", "key", "first_at",
                                     "last_at", "state"};
  enum { C_ID, C_RULE, C_SEV, C_SUBJ, C_KEY, C_FIRST, C_LAST, C_STATE, NC };
  int have[NC];
  for (int i = 0; i < NC; i++)
    if ((rc = has_column(s, "findings", cols[i], &have[i])))
      return rc;
  int links = 0;
  if ((rc = table_exists(s, "finding_events", &links)))
    return rc;
  if (links && (rc = has_column(s, "finding_events", "finding", &links)))
    return rc;
  if (!have[C_FIRST] || !have[C_LAST])
    return EAUDIT_OK; /* not a findings table this module understands */
  eaudit__buf sql = {0};
  rc = eaudit__buf_puts(&sql, "SELECT ");
  for (int i = 0; rc == 0 && i < NC; i++)
    rc = eaudit__buf_printf(&sql, "%s%s", i ? ", " : "",
                            have[i] ? cols[i] : "NULL");
  if (rc == 0)
    rc = eaudit__buf_printf(&sql, ", %s FROM findings f WHERE 1",
                            links && have[C_ID]
                                ? "(SELECT count(*) FROM finding_events e "
                                  "WHERE e.finding = f.id)"
                                : "-1");
  if (rc == 0 && q->since != EAUDIT_TIME_NONE)
    rc = eaudit__buf_puts(&sql, " AND last_at >= ?1");
  if (rc == 0 && q->until != EAUDIT_TIME_NONE)
    rc = eaudit__buf_puts(&sql, " AND first_at < ?2");
  if (rc == 0 && q->has_user)
    rc = eaudit__buf_puts(&sql, have[C_SUBJ] ? " AND subject = ?3" : " AND 0");
  if (rc == 0)
    rc = eaudit__buf_puts(&sql, " ORDER BY first_at, last_at");
  if (rc) {
    eaudit__buf_free(&sql);
    return eaudit__enomem();
  }
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
  eaudit__buf_free(&sql);
  if (src != SQLITE_OK)
    return eaudit__sqlite_error(s, src, "preparing the findings");
  if (q->since != EAUDIT_TIME_NONE)
    sqlite3_bind_int64(st, 1, q->since);
  if (q->until != EAUDIT_TIME_NONE)
    sqlite3_bind_int64(st, 2, q->until);
  if (q->has_user)
    sqlite3_bind_int64(st, 3, q->user);
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    eaudit__report_finding f;
    memset(&f, 0, sizeof f);
    char idtext[EAUDIT_UUID_STRLEN + 1];
    if (sqlite3_column_type(st, C_ID) == SQLITE_BLOB &&
        sqlite3_column_bytes(st, C_ID) == 16) {
      eaudit_uuid_format(sqlite3_column_blob(st, C_ID), idtext);
      f.id = idtext;
    } else {
      f.id = (const char *)sqlite3_column_text(st, C_ID);
    }
    f.rule = (const char *)sqlite3_column_text(st, C_RULE);
    f.severity = (const char *)sqlite3_column_text(st, C_SEV);
    f.has_subject = sqlite3_column_type(st, C_SUBJ) != SQLITE_NULL;
    f.subject = sqlite3_column_int64(st, C_SUBJ);
    f.key = (const char *)sqlite3_column_text(st, C_KEY);
    f.first_at = sqlite3_column_int64(st, C_FIRST);
    f.last_at = sqlite3_column_int64(st, C_LAST);
    f.state = (const char *)sqlite3_column_text(st, C_STATE);
    f.n_events = sqlite3_column_int64(st, NC);
    if (fn(&f, payload) != 0)
      rc = EAUDIT_ECANCELLED; /* the writer failed; its error is set */
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading the findings");
  sqlite3_finalize(st);
  return rc;
}

int eaudit__report_expired_each(eaudit_store *s, const eaudit_query *q,
                           eaudit__expired_fn fn, void *payload) {
  /* Expired and not prolonged since: what the users list shows in red. */
  static const char sql_users[] =
      "SELECT id, expired_at FROM users WHERE expired_at IS NOT NULL AND "
      "(prolonged_at IS NULL OR prolonged_at < expired_at) AND "
      "(?1 IS NULL OR id = ?1) ORDER BY id";
  static const char sql_groups[] =
      "SELECT id, expired_at FROM groups WHERE expired_at IS NOT NULL AND "
      "(prolonged_at IS NULL OR prolonged_at < expired_at) ORDER BY id";
  int rc = EAUDIT_OK;
  for (int pass = 0; rc == 0 && pass < 2; pass++) {
    if (pass == 1 && q->has_user)
      break; /* a user's report shows that user's own expiry only */
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(s->db, pass ? sql_groups : sql_users, -1,
                                 &st, NULL);
    if (src != SQLITE_OK)
      return eaudit__sqlite_error(s, src, "preparing expired permissions");
    if (pass == 0 && q->has_user)
      sqlite3_bind_int64(st, 1, q->user);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
      eaudit__report_expired e = {pass ? EAUDIT_KIND_GROUP : EAUDIT_KIND_USER,
                                  sqlite3_column_int64(st, 0),
                                  sqlite3_column_int64(st, 1)};
      if (fn(&e, payload) != 0)
        rc = EAUDIT_ECANCELLED;
    }
    if (rc == 0 && src != SQLITE_DONE)
      rc = eaudit__sqlite_error(s, src, "reading expired permissions");
    sqlite3_finalize(st);
  }
  return rc;
}
