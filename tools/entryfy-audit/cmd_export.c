/* export: every event as JSON Lines in seq order (DESIGN section 7), from
 * the tail cursor, so an exporter can resume with --after-seq. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit export [--db PATH] [--after-seq N] [-n N] "
    "[-o FILE]\n"
    "\n"
    "Write events as JSON Lines in seq order, with seq, recorded_at, hash\n"
    "and the display names that held when each event happened (import\n"
    "ignores those).\n"
    "\n"
    "  --after-seq N      only events with seq greater than N (incremental\n"
    "                     export: give the last seq of the previous run)\n"
    "  -n, --limit N      at most N events\n"
    "  -o, --output FILE  write to FILE instead of standard output\n"
    "  --actor ID         who asked for the export (recorded as an audit\n"
    "                     event once the library records exports)\n"
    "\n"
    "The last exported seq is printed on stderr. Exit status: 0 (also when\n"
    "nothing is new), 2 usage error, 3 store or output error.\n";

enum { X_AFTER_SEQ = 100, X_ACTOR };
static const cli_opt opts[] = {{"after-seq", 0, 1, X_AFTER_SEQ},
                               {"actor", 0, 1, X_ACTOR},
                               {NULL, 0, 0, 0}};

typedef struct {
  int64_t after_seq, actor;
} export_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  export_args *a = p;
  int64_t v;
  if (cli_parse_i64(val, &v) || v < 0)
    return cli_usage(c, "--%s needs a number >= 0, not '%s'",
                     id == X_AFTER_SEQ ? "after-seq" : "actor", val);
  if (id == X_AFTER_SEQ)
    a->after_seq = v;
  else
    a->actor = v;
  return -1;
}

int cmd_export(int argc, char **argv) {
  cli c;
  export_args a = {0, 0};
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_PAGE | CLI_F_OUTPUT, opts,
                      on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_cursor *cur = NULL;
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
  if ((ret = cli_open(&c, 0, 0, NULL, &s)) != CLI_OK)
    goto done;
  ret = -1;
  int64_t last = 0;
  int rc = eaudit_store_last_seq(s, &last);
  if (rc == 0)
    rc = eaudit_store_tail(s, a.after_seq, (size_t)limit, &cur);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "reading '%s'", c.db);
    goto done;
  }
  if ((ret = cli_open_output(&c, &f)) >= 0)
    goto done;
  progress pr;
  int64_t total = last > a.after_seq ? last - a.after_seq : 0;
  if (limit && total > limit)
    total = limit;
  progress_start(&pr, "export", total);
  const eaudit_event *ev;
  int64_t n = 0, seq = a.after_seq;
  while ((rc = eaudit_cursor_next(cur, &ev)) == EAUDIT_OK) {
    out_event_object(f, s, cur, ev, 1);
    fputc('\n', f);
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
    progress_update(&pr, ++n);
    if (ferror(f))
      break;
  }
  progress_end(&pr);
  if (rc < 0)
    ret = cli_lib_fail(&c, rc, "reading events failed");
  int cret = cli_close_output(&c, f);
  if (ret < 0)
    ret = cret;
  if (ret < 0) {
    fprintf(stderr, "entryfy-audit export: %" PRId64 " events, last seq %" PRId64
                    "\n", n, seq);
    ret = CLI_OK;
  }
done:
  eaudit_cursor_free(cur);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
