/* findings: anomaly findings from the rules engine (include/eaudit/rules.h):
 * the list, and the acknowledge / resolve workflow. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit findings [--db PATH] [--rule ID] [--severity S]\n"
    "                              [--state S] [filters] [--format FMT]\n"
    "       entryfy-audit findings ack|resolve FINDING-ID --actor ID\n"
    "\n"
    "List findings (newest first): rule, severity, key, subject, first and\n"
    "last event times, state. Filters combine; --rule, --severity and\n"
    "--state repeat or take comma-separated values. --user, --since and\n"
    "--until select findings by subject and by episode: a finding is\n"
    "listed when [first_at, last_at] overlaps [--since, --until).\n"
    "\n"
    "  --rule ID          e.g. unrecognized_device_abuse, door_failure_burst\n"
    "  --severity S       info, warning, critical\n"
    "  --state S          open, acknowledged, resolved\n"
    "  -n, --limit N      at most N findings\n"
    "  -f, --format FMT   table (default) or jsonl (DESIGN section 7 shape)\n"
    "  --actor ID         who acknowledges or resolves (required for ack\n"
    "                     and resolve)\n"
    "\n"
    "ack moves an open finding to acknowledged, resolve an open or\n"
    "acknowledged one to resolved; a resolved finding stays resolved.\n"
    "\n"
    "Exit status: 0, 1 no finding matched (or no finding has that id), 2\n"
    "usage error, 3 store error.\n";

enum { F_RULE = 100, F_SEVERITY, F_STATE, F_ACTOR };
static const cli_opt opts[] = {{"rule", 0, 1, F_RULE},
                               {"severity", 0, 1, F_SEVERITY},
                               {"state", 0, 1, F_STATE},
                               {"actor", 0, 1, F_ACTOR},
                               {NULL, 0, 0, 0}};

#define MAX_LIST 16

typedef struct findings_args {
  const char *rules[MAX_LIST];
  size_t n_rules;
  int severity[3], state[3]; /* 1: wanted; all 0: no filter */
  int64_t actor;
  size_t limit, taken; /* --limit, and how many passed so far */
} findings_args;

static int lookup(const char *const *names, const char *p, size_t n) {
  for (int k = 0; names[k]; k++)
    if (strlen(names[k]) == n && strncmp(names[k], p, n) == 0)
      return k;
  return -1;
}

static const char *const sev_names[] = {"info", "warning", "critical", NULL};
static const char *const state_names[] = {"open", "acknowledged", "resolved",
                                          NULL};

static int on_opt(cli *c, int id, const char *val, void *p) {
  findings_args *a = p;
  int64_t v;
  if (id == F_ACTOR) {
    if (cli_parse_i64(val, &v) || v <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    a->actor = v;
    return -1;
  }
  /* --rule, --severity and --state repeat or take comma-separated values. */
  for (const char *q = val; *q;) {
    size_t n = strcspn(q, ",");
    if (n > 0) {
      int k;
      if (id == F_RULE) {
        if (a->n_rules == MAX_LIST)
          return cli_usage(c, "too many --rule values (at most %d)",
                           MAX_LIST);
        a->rules[a->n_rules++] = q; /* compared by length below */
      } else if (id == F_SEVERITY) {
        if ((k = lookup(sev_names, q, n)) < 0)
          return cli_usage(c, "--severity must be info, warning or critical, "
                              "not '%s'", val);
        a->severity[k] = 1;
      } else {
        if ((k = lookup(state_names, q, n)) < 0)
          return cli_usage(c, "--state must be open, acknowledged or "
                              "resolved, not '%s'", val);
        a->state[k] = 1;
      }
    }
    q += n + (q[n] == ',');
  }
  return -1;
}

static int rule_wanted(const findings_args *a, const char *rule) {
  if (a->n_rules == 0)
    return 1;
  size_t len = strlen(rule);
  for (size_t i = 0; i < a->n_rules; i++) {
    size_t n = strcspn(a->rules[i], ",");
    if (n == len && strncmp(a->rules[i], rule, n) == 0)
      return 1;
  }
  return 0;
}

static int any(const int v[3]) { return v[0] || v[1] || v[2]; }

static int time_arg(cli *c, eaudit_store *s, const char *flag,
                    const char *val, eaudit_time *out) {
  eaudit_time b, e;
  if (eaudit_store_parse_time(s, val, cli_now(c), &b, &e))
    return cli_usage(c,
                     "--%s '%s' is not a time (try now, today, yesterday, "
                     "this-week, last-month, -2h, -7d, -1mo, 2026-11-03, "
                     "2026-11-03T14:05)",
                     flag, val);
  *out = b;
  return -1;
}

static void print_row(FILE *f, eaudit_store *s, const eaudit_finding *x,
                      const char *subject_name) {
  uint8_t id[16];
  char ids[40] = "", first[EAUDIT_TIME_STRMAX], last[EAUDIT_TIME_STRMAX],
       subj[160] = "-";
  eaudit_finding_id(x, id);
  eaudit_uuid_format(id, ids);
  eaudit_store_format_time(s, eaudit_finding_first_at(x), EAUDIT_TIME_LOCAL,
                           first, sizeof first);
  eaudit_store_format_time(s, eaudit_finding_last_at(x), EAUDIT_TIME_LOCAL,
                           last, sizeof last);
  int64_t sid;
  if (eaudit_finding_subject(x, &sid) == 0) {
    if (subject_name && *subject_name)
      snprintf(subj, sizeof subj, "%s (%" PRId64 ")", subject_name, sid);
    else
      snprintf(subj, sizeof subj, "#%" PRId64, sid);
  }
  fprintf(f, "%-36s  %-26s  %-8s  %-12s  %-12s  %-19s  %-19s  %6zu  %s%s\n",
          ids, eaudit_finding_rule(x),
          eaudit_severity_name(eaudit_finding_severity(x)),
          eaudit_finding_state_name(eaudit_finding_state(x)),
          eaudit_finding_key(x), first, last, eaudit_finding_event_count(x),
          subj, eaudit_finding_late(x) ? " (late)" : "");
}

int findings_print(cli *c, eaudit_store *s, const eaudit_finding_query *fq,
                   FILE *f, int jsonl, int (*wanted)(const eaudit_finding *,
                                                     void *),
                   void *payload, size_t *n_out) {
  eaudit_findings *list = NULL;
  int rc = eaudit_store_findings(s, fq, &list);
  if (rc)
    return cli_lib_fail(c, rc, "reading findings failed");
  size_t n = 0;
  int ret = -1;
  for (size_t i = 0; i < eaudit_findings_size(list); i++) {
    const eaudit_finding *x = eaudit_findings_get(list, i);
    if (wanted && !wanted(x, payload))
      continue;
    if (jsonl) {
      char *line = NULL;
      if ((rc = eaudit_finding_to_json(x, &line))) {
        ret = cli_lib_fail(c, rc, "encoding a finding failed");
        break;
      }
      fputs(line, f);
      fputc('\n', f);
      eaudit_free(line);
    } else {
      if (n == 0)
        fprintf(f, "%-36s  %-26s  %-8s  %-12s  %-12s  %-19s  %-19s  %6s  %s\n",
                "ID", "RULE", "SEVERITY", "STATE", "KEY", "FIRST", "LAST",
                "EVENTS", "SUBJECT");
      int64_t sid;
      char *name = NULL;
      if (eaudit_finding_subject(x, &sid) == 0)
        eaudit_store_name_at(s, EAUDIT_KIND_USER, sid,
                             eaudit_finding_first_at(x), &name);
      print_row(f, s, x, name);
      eaudit_free(name);
    }
    n++;
  }
  eaudit_findings_free(list);
  *n_out = n;
  return ret;
}

static int wanted(const eaudit_finding *x, void *p) {
  findings_args *a = p;
  int ok = rule_wanted(a, eaudit_finding_rule(x)) &&
           (!any(a->severity) || a->severity[eaudit_finding_severity(x)]) &&
           (!any(a->state) || a->state[eaudit_finding_state(x)]) &&
           (a->limit == 0 || a->taken < a->limit);
  a->taken += ok;
  return ok;
}

static int set_state(cli *c, findings_args *a) {
  int state = strcmp(c->args[0], "ack") == 0 ? EAUDIT_FINDING_ACKNOWLEDGED
                                             : EAUDIT_FINDING_RESOLVED;
  uint8_t id[16];
  if (eaudit_uuid_parse(c->args[1], id))
    return cli_usage(c, "'%s' is not a finding id (a UUID as listed by "
                        "'entryfy-audit findings')", c->args[1]);
  /* A state change writes the store: the real clock. */
  eaudit_store *s = NULL;
  int ret = cli_open(c, 0, 0, NULL, &s);
  if (ret != CLI_OK)
    return ret;
  int rc = eaudit_store_finding_set_state(s, id, state, a->actor);
  if (rc == EAUDIT_ENOTFOUND)
    ret = cli_fail(c, CLI_NOTHING, "no finding has the id %s", c->args[1]);
  else if (rc)
    ret = cli_lib_fail(c, rc, "cannot %s %s", c->args[0], c->args[1]);
  else
    printf("%s %s\n",
           state == EAUDIT_FINDING_ACKNOWLEDGED ? "acknowledged" : "resolved",
           c->args[1]);
  eaudit_store_free(s);
  return ret;
}

int cmd_findings(int argc, char **argv) {
  cli c;
  findings_args a;
  memset(&a, 0, sizeof a);
  int ret = cli_parse(&c, argc, argv, usage,
                      CLI_F_FILTER | CLI_F_PAGE | CLI_F_FORMAT, opts, on_opt,
                      &a);
  eaudit_store *s = NULL;
  eaudit_finding_query *fq = NULL;
  if (ret >= 0)
    goto done;
  int format = OUT_TABLE;
  if (c.format && out_format_from_name(c.format, (1 << OUT_TABLE) |
                                                     (1 << OUT_JSONL),
                                       &format)) {
    ret = cli_usage(&c, "--format must be table or jsonl, not '%s'",
                    c.format);
    goto done;
  }
  if (c.n_args && !((strcmp(c.args[0], "ack") == 0 ||
                     strcmp(c.args[0], "resolve") == 0) &&
                    c.n_args == 2)) {
    ret = cli_usage(&c, "expected 'ack FINDING-ID' or 'resolve FINDING-ID'");
    goto done;
  }
  if (c.n_args) {
    if (a.actor == 0) {
      ret = cli_usage(&c, "%s needs --actor ID (who %s it)", c.args[0],
                      strcmp(c.args[0], "ack") == 0 ? "acknowledges"
                                                    : "resolves");
      goto done;
    }
    ret = set_state(&c, &a);
    goto done;
  }
  if (c.f.as || c.f.n_types || c.f.door || c.f.group || c.f.device ||
      c.f.site || c.f.search || c.f.after || c.f.order) {
    ret = cli_usage(&c, "findings are filtered by --rule, --severity, "
                        "--state, --user, --since, --until and --limit");
    goto done;
  }
  int64_t limit = 0;
  if (c.f.limit && (cli_parse_i64(c.f.limit, &limit) || limit < 0)) {
    ret = cli_usage(&c, "--limit needs a number >= 0, not '%s'", c.f.limit);
    goto done;
  }
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  ret = -1;
  int rc = eaudit_finding_query_new(&fq);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "building the query");
    goto done;
  }
  /* One value of a filter goes to the library; several are matched here. */
  if (a.n_rules == 1) {
    char rule[128];
    snprintf(rule, sizeof rule, "%.*s", (int)strcspn(a.rules[0], ","),
             a.rules[0]);
    eaudit_finding_query_set_rule(fq, rule);
  }
  for (int k = 0; k < 3; k++)
    if (a.severity[k]) {
      eaudit_finding_query_set_min_severity(fq, k);
      break;
    }
  if (a.state[0] + a.state[1] + a.state[2] == 1)
    eaudit_finding_query_set_state(fq, a.state[0] ? 0 : a.state[1] ? 1 : 2);
  if (c.f.user) {
    int64_t uid;
    if ((ret = cli_resolve_user(&c, s, c.f.user, &uid)) >= 0)
      goto done;
    eaudit_finding_query_set_user(fq, uid);
  }
  if (c.f.since || c.f.until) {
    eaudit_time since = EAUDIT_TIME_NONE, until = EAUDIT_TIME_NONE;
    if (c.f.since && (ret = time_arg(&c, s, "since", c.f.since, &since)) >= 0)
      goto done;
    if (c.f.until && (ret = time_arg(&c, s, "until", c.f.until, &until)) >= 0)
      goto done;
    if ((rc = eaudit_finding_query_set_interval(fq, since, until))) {
      ret = cli_usage(&c, "--since '%s' is not before --until '%s'",
                      c.f.since ? c.f.since : "", c.f.until ? c.f.until : "");
      goto done;
    }
  }
  /* Lists of values and the limit are applied here, after the library's
   * filters. */
  size_t n = 0;
  a.limit = (size_t)limit;
  ret = findings_print(&c, s, fq, stdout, format == OUT_JSONL, wanted, &a,
                       &n);
  if (ret < 0) {
    if (n == 0 && format == OUT_TABLE)
      fprintf(stderr, "entryfy-audit findings: no findings matched\n");
    ret = n ? CLI_OK : CLI_NOTHING;
  }
done:
  eaudit_finding_query_free(fq);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
