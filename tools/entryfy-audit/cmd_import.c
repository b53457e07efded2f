/* import: JSON Lines (the DESIGN section 7 event shape) from a file or
 * standard input, through the library's eaudit_store_import(): each good
 * line is appended, a line whose id is already stored is skipped, and each
 * bad line is reported by number and reason. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit import [--db PATH] [--tz ZONE] [FILE|-]\n"
    "\n"
    "Append events from JSON Lines (one event object per line, as export\n"
    "writes them) read from FILE or standard input. Creates the store when\n"
    "it does not exist (in time zone ZONE, default UTC).\n"
    "\n"
    "A line without an id gets one derived from its content, so importing\n"
    "the same file twice adds nothing. Lines whose id is already stored are\n"
    "skipped; bad lines are rejected and listed on stderr by line number.\n"
    "Unknown fields are ignored and counted.\n"
    "\n"
    "  --tz ZONE        IANA time zone of a store created by this import\n"
    "  --batch N        lines per transaction (default 256)\n"
    "\n"
    "Prints 'appended N, skipped N, rejected N, unknown fields N'.\n"
    "Exit status: 0 no line rejected, 1 some lines rejected, 2 usage error,\n"
    "3 the input or the store could not be used.\n";

enum { I_TZ = 100, I_BATCH };
static const cli_opt opts[] = {
    {"tz", 0, 1, I_TZ}, {"batch", 0, 1, I_BATCH}, {NULL, 0, 0, 0}};

typedef struct {
  const char *tz;
  int64_t batch;
} import_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  import_args *a = p;
  if (id == I_TZ) {
    a->tz = val;
    return -1;
  }
  if (cli_parse_i64(val, &a->batch) || a->batch < 1 || a->batch > 100000)
    return cli_usage(c, "--batch needs a number from 1 to 100000, not '%s'",
                     val);
  return -1;
}

typedef struct {
  progress *pr;
} import_progress;

static int on_progress(uint64_t done, uint64_t total, void *payload) {
  import_progress *p = payload;
  p->pr->total = (int64_t)total;
  progress_update(p->pr, (int64_t)done);
  return 0;
}

int cmd_import(int argc, char **argv) {
  cli c;
  import_args a = {NULL, 256};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_report_options *o = NULL;
  eaudit_source *src = NULL;
  eaudit_import_result *res = NULL;
  FILE *in = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args > 1) {
    ret = cli_usage(&c, "give one input file (or - for standard input)");
    goto done;
  }
  const char *path = c.n_args ? c.args[0] : "-";
  if (strcmp(path, "-") == 0) {
    in = stdin;
  } else if ((in = fopen(path, "r")) == NULL) {
    ret = cli_fail(&c, CLI_FAIL, "cannot read '%s': %s", path,
                   strerror(errno));
    goto done;
  }
  if ((ret = cli_open(&c, 1, 0, a.tz, &s)) != CLI_OK)
    goto done;
  ret = -1;
  progress pr;
  progress_start(&pr, "import", 0);
  import_progress ip = {&pr};
  int rc = eaudit_report_options_new(&o);
  if (rc == 0)
    rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_IMPORT_BATCH,
                                       a.batch);
  if (rc == 0)
    rc = eaudit_report_options_set_progress(o, on_progress, &ip);
  if (rc == 0)
    rc = eaudit_source_from_file(&src, in);
  if (rc == 0)
    rc = eaudit_store_import(s, src, o, &res);
  progress_end(&pr);
  /* The bad lines, in file order, also after a failure part-way. */
  for (size_t i = 0; res && i < eaudit_import_result_bad_count(res); i++) {
    uint64_t line = 0;
    const char *reason = NULL;
    eaudit_import_result_bad_at(res, i, &line, NULL, &reason);
    fprintf(stderr, "line %" PRIu64 ": rejected: %s\n", line,
            reason ? reason : "");
  }
  uint64_t appended = 0, skipped = 0, rejected = 0, unknown = 0;
  if (res)
    eaudit_import_result_counts(res, NULL, &appended, &skipped, &rejected,
                                &unknown);
  if (rc)
    ret = cli_lib_fail(&c, rc, "importing '%s' into '%s' failed", path, c.db);
  if (res)
    printf("appended %" PRIu64 ", skipped %" PRIu64 ", rejected %" PRIu64
           ", unknown fields %" PRIu64 "\n",
           appended, skipped, rejected, unknown);
  if (ret < 0)
    ret = rejected ? CLI_NOTHING : CLI_OK;
done:
  eaudit_import_result_free(res);
  eaudit_source_free(src);
  eaudit_report_options_free(o);
  if (in && in != stdin)
    fclose(in);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
