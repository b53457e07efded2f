/* search (alias log): events matching filters, as a table, JSON, JSON
 * Lines or CSV. With no filter it is the console's default view. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: entryfy-audit search [--db PATH] [filters] [--format FMT]\n"
    "       entryfy-audit log ...\n"
    "\n"
    "Show events, newest first. With no filter: the default view, user 1 as\n"
    "subject or actor over the past month.\n"
    "\n"
    "filters (all combine):\n"
    "  -u, --user ID|NAME     a user id, or a name prefix naming one user\n"
    "      --as ROLE          subject, actor or any (default any)\n"
    "  -S, --since TIME       from TIME (inclusive)\n"
    "  -U, --until TIME       until TIME (exclusive)\n"
    "  -t, --type NAMES       event types, repeatable or comma-separated\n"
    "      --door ID, --group ID, --device ID, --site ID\n"
    "  -s, --search TEXT      free text: dates (2026-11-03, Nov 3), times\n"
    "                         (14:05, 14:), type labels (door opened),\n"
    "                         name prefixes\n"
    "paging:\n"
    "  -n, --limit N          at most N events; prints the next page's\n"
    "                         --after cursor on stderr\n"
    "      --after CURSOR     continue after a cursor\n"
    "      --order ORDER      newest (default) or oldest\n"
    "output:\n"
    "  -f, --format FMT       table (default), json, jsonl, csv\n"
    "  -o, --output FILE      write to FILE instead of standard output\n"
    "\n"
    "TIME: now, today, yesterday, this-week, last-week, this-month,\n"
    "last-month, -2h, -30m, -7d, -2w, -1mo, -1y, 2026-11-03,\n"
    "2026-11-03T14:05, RFC 3339. Words and dates mean the start of their\n"
    "period, in the store's time zone.\n"
    "\n"
    "Exit status: 0 events shown, 1 none matched, 2 usage error, 3 store\n"
    "error.\n";

int search_print(cli *c, eaudit_store *s, eaudit_query *q, FILE *f,
                 int format, size_t *n_out) {
  eaudit_cursor *cur;
  int rc = eaudit_store_query(s, q, &cur);
  if (rc)
    return cli_lib_fail(c, rc, "query failed");
  out_writer w = {0};
  w.f = f;
  w.format = format;
  w.store = s;
  w.with_names = 1;
  if (format == OUT_TABLE) {
    w.width = cli_term_width(fileno(f));
    const char *cols = getenv("COLUMNS");
    if (w.width == 0 && cols && atoi(cols) > 0)
      w.width = atoi(cols);
  }
  out_begin(&w);
  const eaudit_event *ev;
  int ret = -1;
  while ((rc = eaudit_cursor_next(cur, &ev)) == EAUDIT_OK)
    if (out_event(&w, cur, ev)) {
      ret = cli_fail(c, CLI_FAIL, "writing the output failed");
      break;
    }
  if (rc < 0)
    ret = cli_lib_fail(c, rc, "reading events failed");
  out_end(&w);
  if (ret < 0 && c->f.limit && atoll(c->f.limit) > 0 &&
      w.count == (size_t)atoll(c->f.limit)) {
    char pos[EAUDIT_POSITION_MAX];
    if (eaudit_cursor_position(cur, pos, sizeof pos) == 0)
      fprintf(stderr, "entryfy-audit: more may follow: --after %s\n", pos);
  }
  eaudit_cursor_free(cur);
  *n_out = w.count;
  return ret;
}

int cmd_search(int argc, char **argv) {
  cli c;
  int ret = cli_parse(&c, argc, argv, usage,
                      CLI_F_FILTER | CLI_F_PAGE | CLI_F_FORMAT | CLI_F_OUTPUT,
                      NULL, NULL, NULL);
  int format = OUT_TABLE;
  eaudit_store *s = NULL;
  eaudit_query *q = NULL;
  FILE *f = NULL;
  size_t n = 0;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s' (free text goes in "
                        "--search)", c.args[0]);
    goto done;
  }
  if (c.format && out_format_from_name(c.format, 0xF, &format)) {
    ret = cli_usage(&c, "--format must be table, json, jsonl or csv, not "
                        "'%s'", c.format);
    goto done;
  }
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  ret = -1;
  if ((ret = cli_build_query(&c, s, 1, &q)) >= 0)
    goto done;
  if ((ret = cli_open_output(&c, &f)) >= 0)
    goto done;
  ret = search_print(&c, s, q, f, format, &n);
  int cret = cli_close_output(&c, f);
  if (ret < 0)
    ret = cret;
  if (ret < 0) {
    if (n == 0 && format == OUT_TABLE)
      fprintf(stderr, "entryfy-audit: no events matched\n");
    ret = n ? CLI_OK : CLI_NOTHING;
  }
done:
  eaudit_query_free(q);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
