/* export: every event as JSON Lines in seq order (DESIGN section 7), written
 * by the library's eaudit_store_export(), which also records the export as
 * an 'Audit report exported' event. An exporter resumes with --after-seq. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit export [--db PATH] [--after-seq N] [-n N] "
    "[-o FILE]\n"
    "                            [--actor ID | --no-record]\n"
    "\n"
    "Write events as JSON Lines in seq order, with seq, recorded_at, hash\n"
    "and the display names that held when each event happened (import\n"
    "ignores those). The export is recorded as an 'Audit report exported'\n"
    "event naming --actor, after the events written.\n"
    "\n"
    "  --after-seq N      only events with seq greater than N (incremental\n"
    "                     export: give the last seq of the previous run)\n"
    "  -n, --limit N      at most N events\n"
    "  -o, --output FILE  write to FILE instead of standard output\n"
    "  --actor ID         who asked for the export (default 1)\n"
    "  --no-record        record nothing (for a shipper that follows the\n"
    "                     store and would otherwise export its own records)\n"
    "\n"
    "The number of events and the last exported seq are printed on stderr.\n"
    "Exit status: 0 (also when nothing is new), 2 usage error, 3 store or\n"
    "output error.\n";

enum { X_AFTER_SEQ = 100, X_ACTOR, X_NO_RECORD };
static const cli_opt opts[] = {{"after-seq", 0, 1, X_AFTER_SEQ},
                               {"actor", 0, 1, X_ACTOR},
                               {"no-record", 0, 0, X_NO_RECORD},
                               {NULL, 0, 0, 0}};

typedef struct {
  int64_t after_seq, actor;
  int no_record;
} export_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  export_args *a = p;
  int64_t v;
  if (id == X_NO_RECORD) {
    a->no_record = 1;
    return -1;
  }
  if (id == X_ACTOR) {
    if (cli_parse_i64(val, &v) || v <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    a->actor = v;
    return -1;
  }
  if (cli_parse_i64(val, &v) || v < 0)
    return cli_usage(c, "--after-seq needs a number >= 0, not '%s'", val);
  a->after_seq = v;
  return -1;
}

/* The library's export has no limit: with -n the tool reads the tail
 * cursor itself, encodes through eaudit_event_to_json() and records the
 * export with the details eaudit_store_export() writes
 * (docs/formats.md). */
static int export_limited(cli *c, eaudit_store *s, const export_args *a,
                          int64_t limit, FILE *f, progress *pr, int64_t *n,
                          int64_t *last) {
  eaudit_cursor *cur = NULL;
  int rc = eaudit_store_tail(s, a->after_seq, (size_t)limit, &cur);
  if (rc)
    return cli_lib_fail(c, rc, "reading '%s'", c->db);
  const eaudit_event *ev;
  int ret = -1;
  while ((rc = eaudit_cursor_next(cur, &ev)) == EAUDIT_OK) {
    char *line = NULL;
    if ((rc = eaudit_event_to_json(s, ev, EAUDIT_JSON_STORED |
                                              EAUDIT_JSON_NAMES,
                                   &line))) {
      ret = cli_lib_fail(c, rc, "encoding an event failed");
      break;
    }
    fputs(line, f);
    fputc('\n', f);
    eaudit_free(line);
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, last);
    progress_update(pr, ++*n);
    if (ferror(f))
      break;
  }
  if (ret < 0 && rc < 0)
    ret = cli_lib_fail(c, rc, "reading events failed");
  eaudit_cursor_free(cur);
  if (ret >= 0 || a->no_record)
    return ret;
  char details[256];
  snprintf(details, sizeof details,
           "{\"format\":\"jsonl\",\"export\":true,\"events\":%" PRId64
           ",\"after_seq\":%" PRId64 ",\"last_seq\":%" PRId64
           ",\"complete\":%s,\"limit\":%" PRId64 "}",
           *n, a->after_seq, *last, ferror(f) ? "false" : "true", limit);
  eaudit_event *rec = NULL;
  rc = eaudit_event_new(&rec);
  if (rc == 0) {
    eaudit_event_set(rec, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_REPORT_EXPORTED);
    eaudit_event_set(rec, EAUDIT_FIELD_OCCURRED_AT, eaudit_store_now(s));
    eaudit_event_set(rec, EAUDIT_FIELD_SUBJECT, a->actor);
    eaudit_event_set(rec, EAUDIT_FIELD_ACTOR, a->actor);
    rc = eaudit_event_set_details(rec, details, strlen(details));
  }
  if (rc == 0)
    rc = eaudit_store_append(s, rec);
  eaudit_event_free(rec);
  return rc ? cli_lib_fail(c, rc, "recording the export failed") : -1;
}

typedef struct {
  progress *pr;
  int64_t done;
} export_progress;

static int on_progress(uint64_t done, uint64_t total, void *payload) {
  export_progress *p = payload;
  p->pr->total = (int64_t)total;
  p->done = (int64_t)done;
  progress_update(p->pr, (int64_t)done);
  return 0;
}

int cmd_export(int argc, char **argv) {
  cli c;
  export_args a = {0, 1, 0};
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_PAGE | CLI_F_OUTPUT, opts,
                      on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_report_options *o = NULL;
  eaudit_sink *k = NULL;
  FILE *f = NULL;
  int64_t limit = 0;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (c.f.after || c.f.order) {
    ret = cli_usage(&c, "export is in seq order; use --after-seq");
    goto done;
  }
  if (c.f.limit && (cli_parse_i64(c.f.limit, &limit) || limit < 0)) {
    ret = cli_usage(&c, "--limit needs a number >= 0, not '%s'", c.f.limit);
    goto done;
  }
  /* The export is recorded: the real clock, whatever ENTRYFY_AUDIT_NOW. */
  if ((ret = cli_open(&c, 0, 0, NULL, &s)) != CLI_OK)
    goto done;
  ret = -1;
  if ((ret = cli_open_output(&c, &f)) >= 0)
    goto done;
  progress pr;
  progress_start(&pr, "export", 0);
  int64_t n = 0, last = a.after_seq;
  if (limit > 0) {
    ret = export_limited(&c, s, &a, limit, f, &pr, &n, &last);
  } else {
    export_progress ep = {&pr, 0};
    int rc = eaudit_report_options_new(&o);
    if (rc == 0)
      rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT,
                                         EAUDIT_FORMAT_JSONL);
    if (rc == 0)
      rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_RECORD,
                                         !a.no_record);
    if (rc == 0)
      rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, a.actor);
    if (rc == 0)
      rc = eaudit_report_options_set_progress(o, on_progress, &ep);
    if (rc == 0)
      rc = eaudit_sink_from_file(&k, f);
    if (rc == 0)
      rc = eaudit_store_export(s, a.after_seq, o, k, &last);
    n = ep.done;
    if (rc)
      ret = cli_lib_fail(&c, rc, "export from '%s' failed", c.db);
  }
  progress_end(&pr);
  int cret = cli_close_output(&c, f);
  if (ret < 0)
    ret = cret;
  if (ret < 0) {
    fprintf(stderr,
            "entryfy-audit export: %" PRId64 " events, last seq %" PRId64 "\n",
            n, last);
    ret = CLI_OK;
  }
done:
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
