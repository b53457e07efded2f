/* rules: show, load or re-evaluate the anomaly rule set
 * (include/eaudit/rules.h, docs/rules.md). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit rules show [--db PATH] [--defaults]\n"
    "       entryfy-audit rules check FILE [--db PATH]\n"
    "       entryfy-audit rules load FILE --actor ID [--db PATH]\n"
    "       entryfy-audit rules evaluate --since-seq N [--db PATH]\n"
    "\n"
    "  show               print the active rule set as JSON, every built-in\n"
    "                     and default written out, with its version on\n"
    "                     stderr (--defaults: the built-in set, no store\n"
    "                     needed)\n"
    "  check FILE         validate FILE (JSON, - for standard input) without\n"
    "                     installing it\n"
    "  load FILE          validate FILE and make it the active rule set;\n"
    "                     records 'Anomaly rules changed' with --actor.\n"
    "                     Past events are not judged again: run evaluate\n"
    "  evaluate           re-evaluate the stored events with seq >= N, in\n"
    "                     seq order, through the active rule set, replacing\n"
    "                     the findings those events opened (0: every event;\n"
    "                     acknowledged and resolved findings found again keep\n"
    "                     their state)\n"
    "\n"
    "  --actor ID         who changes the rules (load)\n"
    "  --since-seq N      first seq to re-evaluate (evaluate)\n"
    "\n"
    "An invalid rule set is reported as 'path: reason', for example\n"
    "'rules[0].window: ...', and changes nothing.\n"
    "\n"
    "Exit status: 0, 2 usage error or invalid rule set, 3 store or file\n"
    "error.\n";

enum { L_ACTOR = 100, L_DEFAULTS, L_SINCE_SEQ };
static const cli_opt opts[] = {{"actor", 0, 1, L_ACTOR},
                               {"defaults", 0, 0, L_DEFAULTS},
                               {"since-seq", 0, 1, L_SINCE_SEQ},
                               {NULL, 0, 0, 0}};

typedef struct {
  int64_t actor, since_seq;
  int defaults, have_since;
} rules_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  rules_args *a = p;
  int64_t v;
  switch (id) {
  case L_ACTOR:
    if (cli_parse_i64(val, &v) || v <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    a->actor = v;
    break;
  case L_DEFAULTS:
    a->defaults = 1;
    break;
  case L_SINCE_SEQ:
    if (cli_parse_i64(val, &v) || v < 0)
      return cli_usage(c, "--since-seq needs a number >= 0, not '%s'", val);
    a->since_seq = v;
    a->have_since = 1;
    break;
  }
  return -1;
}

/* The whole of FILE (or standard input for "-"). */
static int read_all(cli *c, const char *path, char **out, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL)
    return cli_fail(c, CLI_FAIL, "cannot read '%s': %s", path,
                    strerror(errno));
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n + 1 == cap) {
      char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (got == 0)
      break;
  }
  int bad = ferror(f);
  if (f != stdin)
    fclose(f);
  if (buf == NULL)
    return cli_fail(c, CLI_FAIL, "'%s' is too large for a rule set", path);
  if (bad) {
    free(buf);
    return cli_fail(c, CLI_FAIL, "reading '%s' failed", path);
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return -1;
}

static int show(cli *c, const rules_args *a) {
  eaudit_store *s = NULL;
  int ret;
  if (a->defaults) {
    /* A new store holds the built-in set. */
    int rc = eaudit_store_open(&s, ":memory:", NULL);
    if (rc)
      return cli_lib_fail(c, rc, "cannot read the built-in rules");
  } else if ((ret = cli_open(c, 0, 1, NULL, &s)) != CLI_OK) {
    return ret;
  }
  char *json = NULL;
  int64_t version = 0;
  int rc = eaudit_store_rules(s, &json);
  if (rc == 0)
    rc = eaudit_store_rules_version(s, &version);
  if (rc) {
    ret = cli_lib_fail(c, rc, "reading the rule set failed");
  } else {
    fputs(json, stdout);
    if (*json && json[strlen(json) - 1] != '\n')
      fputc('\n', stdout);
    if (!a->defaults)
      fprintf(stderr, "entryfy-audit rules: rule set version %" PRId64 "\n",
              version);
    ret = CLI_OK;
  }
  eaudit_free(json);
  eaudit_store_free(s);
  return ret;
}

static int load(cli *c, const rules_args *a, int install) {
  char *json = NULL;
  size_t len = 0;
  int ret = read_all(c, c->args[1], &json, &len);
  if (ret >= 0)
    return ret;
  eaudit_store *s = NULL;
  /* Installing appends rules_changed: the real clock. */
  if ((ret = cli_open(c, 0, 0, NULL, &s)) != CLI_OK) {
    free(json);
    return ret;
  }
  int rc = install ? eaudit_store_set_rules(s, json, len, a->actor)
                   : eaudit_store_check_rules(s, json, len);
  int64_t version = 0;
  if (rc == EAUDIT_ERULES) {
    /* The library's message is "path: reason". */
    ret = cli_fail(c, CLI_USAGE, "%s: invalid rule set: %s", c->args[1],
                   eaudit_error_last()->message);
  } else if (rc) {
    ret = cli_lib_fail(c, rc, "%s '%s' failed", install ? "loading" : "checking",
                       c->args[1]);
  } else if (install && (rc = eaudit_store_rules_version(s, &version)) != 0) {
    ret = cli_lib_fail(c, rc, "reading the rule set version");
  } else {
    if (install)
      printf("loaded %s: rule set version %" PRId64 " (run 'entryfy-audit "
             "rules evaluate --since-seq 0' to judge past events)\n",
             c->args[1], version);
    else
      printf("%s: valid\n", c->args[1]);
    ret = CLI_OK;
  }
  eaudit_store_free(s);
  free(json);
  return ret;
}

static int evaluate(cli *c, const rules_args *a) {
  eaudit_store *s = NULL;
  int ret = cli_open(c, 0, 0, NULL, &s);
  if (ret != CLI_OK)
    return ret;
  int64_t opened = 0;
  int rc = eaudit_store_reevaluate(s, a->since_seq, &opened);
  if (rc) {
    ret = cli_lib_fail(c, rc, "re-evaluation failed");
  } else {
    printf("re-evaluated the events from seq %" PRId64 ": %" PRId64
           " findings (list them with 'entryfy-audit findings')\n",
           a->since_seq, opened);
    ret = CLI_OK;
  }
  eaudit_store_free(s);
  return ret;
}

int cmd_rules(int argc, char **argv) {
  cli c;
  rules_args a;
  memset(&a, 0, sizeof a);
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  if (ret >= 0)
    goto done;
  const char *w = c.n_args ? c.args[0] : "show";
  int ok = strcmp(w, "show") == 0       ? c.n_args <= 1 && !a.actor &&
                                              !a.have_since
           : strcmp(w, "check") == 0    ? c.n_args == 2 && !a.defaults &&
                                              !a.have_since
           : strcmp(w, "load") == 0     ? c.n_args == 2 && a.actor &&
                                              !a.defaults && !a.have_since
           : strcmp(w, "evaluate") == 0 ? c.n_args == 1 && a.have_since &&
                                              !a.defaults && !a.actor
                                        : 0;
  if (!ok) {
    ret = cli_usage(&c, "expected 'show [--defaults]', 'check FILE', "
                        "'load FILE --actor ID' or 'evaluate --since-seq N'");
    goto done;
  }
  if (strcmp(w, "show") == 0)
    ret = show(&c, &a);
  else if (strcmp(w, "evaluate") == 0)
    ret = evaluate(&c, &a);
  else
    ret = load(&c, &a, strcmp(w, "load") == 0);
done:
  cli_free(&c);
  return ret;
}
