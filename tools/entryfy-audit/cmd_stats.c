/* stats: counts per type and per day, answered from the rollups. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit stats [--db PATH] [filters] [--by WHAT] "
    "[--format FMT]\n"
    "\n"
    "Count events per type and per day (in the store's time zone), or per\n"
    "user. Takes the filters of search; with none, counts the whole store.\n"
    "\n"
    "  --by WHAT          type, day, user, or all (default: type and day)\n"
    "  -f, --format FMT   table (default) or csv (columns by,key,name,count)\n"
    "\n"
    "Exit status: 0, 1 when nothing matched, 2 usage error, 3 store error.\n";

enum { T_BY = 100 };
static const cli_opt opts[] = {{"by", 0, 1, T_BY}, {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)id;
  int *mask = p;
  if (strcmp(val, "type") == 0)
    *mask = 1;
  else if (strcmp(val, "day") == 0)
    *mask = 2;
  else if (strcmp(val, "user") == 0)
    *mask = 4;
  else if (strcmp(val, "all") == 0)
    *mask = 7;
  else
    return cli_usage(c, "--by must be type, day, user or all, not '%s'", val);
  return -1;
}

static int show(cli *c, eaudit_store *s, eaudit_query *q, int by, int csv,
                int64_t *total) {
  static const char *const what[] = {"", "type", "day", "user"};
  eaudit_counts *k;
  int rc = eaudit_store_counts(s, q, by, &k);
  if (rc)
    return cli_lib_fail(c, rc, "counting failed");
  size_t n = eaudit_counts_size(k);
  if (!csv && n)
    printf("%s%-32s %10s\n", *total >= 0 ? "\n" : "",
           by == EAUDIT_COUNT_BY_TYPE  ? "TYPE"
           : by == EAUDIT_COUNT_BY_DAY ? "DAY"
                                       : "USER",
           "EVENTS");
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t key, count;
    eaudit_counts_get(k, i, &key, &count);
    sum += count;
    char name[128];
    if (by == EAUDIT_COUNT_BY_TYPE) {
      const char *l = eaudit_store_type_label(s, (int)key);
      snprintf(name, sizeof name, "%s", l ? l : "?");
    } else if (by == EAUDIT_COUNT_BY_DAY) {
      char t[EAUDIT_TIME_STRMAX];
      eaudit_store_format_time(s, key, EAUDIT_TIME_LOCAL, t, sizeof t);
      snprintf(name, sizeof name, "%.10s", t);
    } else {
      char *nm = NULL;
      if (eaudit_store_name_at(s, EAUDIT_KIND_USER, key, EAUDIT_TIME_NONE,
                               &nm) == 0)
        snprintf(name, sizeof name, "%s (%" PRId64 ")", nm, key);
      else
        snprintf(name, sizeof name, "#%" PRId64, key);
      eaudit_free(nm);
    }
    if (csv) {
      printf("%s,%" PRId64 ",", what[by], key);
      if (strpbrk(name, ",\"")) {
        putchar('"');
        for (const char *p = name; *p; p++) {
          if (*p == '"')
            putchar('"');
          putchar(*p);
        }
        putchar('"');
      } else {
        fputs(name, stdout);
      }
      printf(",%" PRId64 "\r\n", count);
    } else {
      printf("%-32s %10" PRId64 "\n", name, count);
    }
  }
  if (!csv && n)
    printf("%-32s %10" PRId64 "\n", "total", sum);
  eaudit_counts_free(k);
  if (sum > *total)
    *total = sum;
  return -1;
}

int cmd_stats(int argc, char **argv) {
  cli c;
  int mask = 3;
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FILTER | CLI_F_FORMAT,
                      opts, on_opt, &mask);
  eaudit_store *s = NULL;
  eaudit_query *q = NULL;
  int format = OUT_TABLE;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (c.format && out_format_from_name(c.format, (1 << OUT_TABLE) |
                                                     (1 << OUT_CSV),
                                       &format)) {
    ret = cli_usage(&c, "--format must be table or csv, not '%s'", c.format);
    goto done;
  }
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  if ((ret = cli_build_query(&c, s, 0, &q)) >= 0)
    goto done;
  int csv = format == OUT_CSV;
  if (csv)
    printf("by,key,name,count\r\n");
  int64_t total = -1;
  static const int bys[] = {EAUDIT_COUNT_BY_TYPE, EAUDIT_COUNT_BY_DAY,
                            EAUDIT_COUNT_BY_USER};
  for (int i = 0; i < 3 && ret < 0; i++)
    if (mask & (1 << i))
      ret = show(&c, s, q, bys[i], csv, &total);
  if (ret < 0)
    ret = total > 0 ? CLI_OK : CLI_NOTHING;
  if (ret == CLI_NOTHING && !csv)
    fprintf(stderr, "entryfy-audit: no events matched\n");
done:
  eaudit_query_free(q);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
