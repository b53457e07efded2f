/* Where the report's summary finds findings and expired permissions: both
 * come from the rules engine, so the report shows what `findings` and the
 * "expired now" list show.
 *
 * Findings are streamed one at a time (eaudit__findings_each), so the
 * report's memory does not grow with them. A finding is in the report when
 * [first_at, last_at] overlaps the query's interval and, for a query with a
 * user, its subject is that user.
 *
 * Expired permissions are eaudit_store_expired(), narrowed to the query's
 * user when it has one. */
#include "report_internal.h"
#include "rules_internal.h"

typedef struct finding_ctx {
  eaudit__finding_fn fn;
  void *payload;
} finding_ctx;

static int one_finding(const eaudit_finding *f, void *payload) {
  finding_ctx *c = payload;
  char id[EAUDIT_UUID_STRLEN + 1];
  eaudit_uuid_format(f->id, id);
  eaudit__report_finding r = {
      .id = id,
      .rule = f->rule,
      .severity = eaudit_severity_name(f->severity),
      .has_subject = f->has_subject,
      .subject = f->subject,
      .key = f->key,
      .first_at = f->first_at,
      .last_at = f->last_at,
      .state = eaudit_finding_state_name(f->state),
      .n_events = (int64_t)f->n_events,
  };
  /* A nonzero return means the writer failed and set its error. */
  return c->fn(&r, c->payload) != 0 ? EAUDIT_ECANCELLED : EAUDIT_OK;
}

int eaudit__report_findings(eaudit_store *s, const eaudit_query *q,
                            eaudit__finding_fn fn, void *payload) {
  eaudit_finding_query *fq = NULL;
  int rc = eaudit_finding_query_new(&fq);
  if (rc)
    return rc;
  /* The query's interval is valid (since < until), so this cannot fail. */
  fq->since = q->since;
  fq->until = q->until;
  if (q->has_user)
    rc = eaudit_finding_query_set_user(fq, q->user);
  finding_ctx c = {fn, payload};
  if (rc == 0)
    rc = eaudit__findings_each(s, fq, one_finding, &c);
  eaudit_finding_query_free(fq);
  return rc;
}

int eaudit__report_expired_each(eaudit_store *s, const eaudit_query *q,
                                eaudit__expired_fn fn, void *payload) {
  eaudit_expired *l = NULL;
  int rc = eaudit_store_expired(s, &l);
  /* Users first, then groups, each by id: the order the writers need. */
  for (size_t i = 0; rc == 0 && i < eaudit_expired_size(l); i++) {
    eaudit__report_expired e;
    rc = eaudit_expired_get(l, i, &e.kind, &e.id, &e.expired_at);
    /* A user's report shows that user's own expiry only. */
    if (rc || (q->has_user && (e.kind != EAUDIT_KIND_USER || e.id != q->user)))
      continue;
    if (fn(&e, payload) != 0)
      rc = EAUDIT_ECANCELLED;
  }
  eaudit_expired_free(l);
  return rc;
}
