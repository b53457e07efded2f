/* report: a report for a user and/or an interval, written by the library's
 * eaudit_store_report(), which records it as an 'Audit report exported'
 * event. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit report [--db PATH] [filters] [--format FMT] "
    "[-o FILE]\n"
    "\n"
    "Write a report: a summary (counts per type, day and user; findings;\n"
    "expired users and groups) then the events, newest first, with the\n"
    "names of the time, in the store's time zone. Takes the filters of\n"
    "search; with none, the default view (user 1, past month).\n"
    "\n"
    "  -f, --format FMT   csv (default), json, jsonl, html, syslog, cef\n"
    "  -o, --output FILE  write to FILE (default: standard output)\n"
    "  --actor ID         who asked for the report (recorded as an\n"
    "                     'Audit report exported' event; default 1)\n"
    "  --no-neutralise    CSV: do not prefix cells starting with = + - @\n"
    "                     with an apostrophe (they are by default)\n"
    "\n"
    "The number of events written is printed on stderr. A progress bar\n"
    "is drawn on stderr when it is a terminal.\n"
    "\n"
    "Exit status: 0 (also for a report of no events), 2 usage error, 3 store\n"
    "or output error.\n";

enum { R_ACTOR = 100, R_NO_NEUTRALISE };
static const cli_opt opts[] = {{"actor", 0, 1, R_ACTOR},
                               {"no-neutralise", 0, 0, R_NO_NEUTRALISE},
                               {NULL, 0, 0, 0}};

typedef struct {
  int64_t actor;
  int no_neutralise;
} report_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  report_args *a = p;
  if (id == R_NO_NEUTRALISE) {
    a->no_neutralise = 1;
    return -1;
  }
  if (cli_parse_i64(val, &a->actor) || a->actor <= 0)
    return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
  return -1;
}

typedef struct {
  progress *pr;
  int64_t done;
} report_progress;

static int on_progress(uint64_t done, uint64_t total, void *payload) {
  report_progress *p = payload;
  p->pr->total = (int64_t)total;
  p->done = (int64_t)done;
  progress_update(p->pr, (int64_t)done);
  return 0;
}

int cmd_report(int argc, char **argv) {
  cli c;
  report_args a = {1, 0};
  int ret = cli_parse(&c, argc, argv, usage,
                      CLI_F_FILTER | CLI_F_PAGE | CLI_F_FORMAT | CLI_F_OUTPUT,
                      opts, on_opt, &a);
  eaudit_store *s = NULL, *qs = NULL;
  eaudit_query *q = NULL;
  eaudit_report_options *o = NULL;
  eaudit_sink *k = NULL;
  FILE *f = NULL;
  if (ret >= 0)
    goto done;
  static const char *const formats[] = {"csv",  "json",   "jsonl",
                                        "html", "syslog", "cef"};
  static const int codes[] = {EAUDIT_FORMAT_CSV,    EAUDIT_FORMAT_JSON,
                              EAUDIT_FORMAT_JSONL,  EAUDIT_FORMAT_HTML,
                              EAUDIT_FORMAT_SYSLOG, EAUDIT_FORMAT_CEF};
  int format = EAUDIT_FORMAT_CSV;
  int ok = c.format == NULL;
  for (size_t i = 0; !ok && i < 6; i++)
    if (strcmp(c.format, formats[i]) == 0) {
      ok = 1;
      format = codes[i];
    }
  if (!ok) {
    ret = cli_usage(&c, "--format must be csv, json, jsonl, html, syslog or "
                        "cef, not '%s'", c.format);
    goto done;
  }
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  /* The report appends its report_exported event through a handle on the
   * real clock, so that ENTRYFY_AUDIT_NOW never changes a recorded_at. Time
   * words and the default view are resolved against ENTRYFY_AUDIT_NOW
   * through a second handle whose clock it fixes, which appends nothing. */
  if ((ret = cli_open(&c, 0, 0, NULL, &s)) != CLI_OK)
    goto done;
  if (c.has_now) {
    if ((ret = cli_open(&c, 0, 1, NULL, &qs)) != CLI_OK)
      goto done;
  }
  ret = -1;
  if ((ret = cli_build_query(&c, qs ? qs : s, 1, &q)) >= 0)
    goto done;
  if ((ret = cli_open_output(&c, &f)) >= 0)
    goto done;
  progress pr;
  progress_start(&pr, "report", 0);
  report_progress rp = {&pr, 0};
  int rc = eaudit_report_options_new(&o);
  if (rc == 0)
    rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT, format);
  if (rc == 0)
    rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, a.actor);
  if (rc == 0)
    rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_CSV_NEUTRALIZE,
                                       !a.no_neutralise);
  if (rc == 0)
    rc = eaudit_report_options_set_progress(o, on_progress, &rp);
  if (rc == 0)
    rc = eaudit_sink_from_file(&k, f);
  if (rc == 0)
    rc = eaudit_store_report(s, q, o, k);
  progress_end(&pr);
  if (rc)
    ret = cli_lib_fail(&c, rc, "writing the report failed");
  int cret = cli_close_output(&c, f);
  if (ret < 0)
    ret = cret;
  if (ret < 0) {
    fprintf(stderr, "entryfy-audit report: %" PRId64 " events%s%s\n",
            rp.done, c.output ? " written to " : "",
            c.output ? c.output : "");
    ret = CLI_OK;
  }
done:
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(qs);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
