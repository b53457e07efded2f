/* entryfy-audit: the dispatch table, shared option parsing, messages and
 * opening stores. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const cli_command commands[] = {
    {"demo", NULL, "create a store filled with a simulated month", cmd_demo},
    {"search", "log", "show events (default: user 1, past month)",
     cmd_search},
    {"report", NULL, "write a report (csv, json, jsonl, html, syslog, cef)",
     cmd_report},
    {"import", NULL, "append events from JSON Lines", cmd_import},
    {"export", NULL, "write events as JSON Lines in seq order", cmd_export},
    {"findings", NULL, "list, acknowledge or resolve anomaly findings",
     cmd_findings},
    {"devices", NULL, "list, rename or forget recognised devices",
     cmd_devices},
    {"rules", NULL, "show, check, load or re-evaluate the anomaly rules",
     cmd_rules},
    {"verify", NULL, "check the hash chain and signed checkpoints",
     cmd_verify},
    {"purge", NULL, "remove events past the retention limit", cmd_purge},
    {"keygen", NULL, "make a signing key file and print its public key",
     cmd_keygen},
    {"checkpoint", NULL, "sign the chain head now; export the checkpoints",
     cmd_checkpoint},
    {"backup", NULL, "copy the store while it is in use", cmd_backup},
    {"ship", NULL, "send new events to a central PostgreSQL store",
     cmd_ship},
    {"stats", NULL, "counts per type and per day", cmd_stats},
    {"users", NULL, "list users (id, name, role, last activity)", cmd_users},
    {"name", NULL, "set a display name in the directory", cmd_name},
    {"time", NULL, "show what time words mean", cmd_time},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void main_usage(FILE *f) {
  fprintf(f, "usage: entryfy-audit COMMAND [--db PATH] [options]\n"
             "       entryfy-audit --version | --help\n\ncommands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-10s %s%s%s%s\n", commands[i].name, commands[i].summary,
            commands[i].alias ? " (alias: " : "",
            commands[i].alias ? commands[i].alias : "",
            commands[i].alias ? ")" : "");
  fprintf(f,
          "\nEvery command takes --db PATH (default: $ENTRYFY_AUDIT_DB, else "
          "%s)\nand --help. PATH may be a postgresql:// URI: the central "
          "store, where\nimport, search, stats, users, name, devices, checkpoint,\n"
          "verify, purge, rules and findings work (docs/scale-out.md).\nExit codes: 0 ok, 1 nothing found, 2 usage "
          "error,\n3 the store or a file could not be used, 4 verify "
          "found damage.\nSee entryfy-audit(1).\n",
          CLI_DEFAULT_DB);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    main_usage(stderr);
    return CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      char *sub[] = {argv[2], (char *)"--help", NULL};
      for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[2], commands[i].name) == 0 ||
            (commands[i].alias && strcmp(argv[2], commands[i].alias) == 0))
          return commands[i].run(2, sub);
      fprintf(stderr, "entryfy-audit: unknown command '%s'\n", argv[2]);
      return CLI_USAGE;
    }
    main_usage(stdout);
    return CLI_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("entryfy-audit %s (libentryfy-audit %s)\n", EAUDIT_VERSION_STRING,
           eaudit_version_string());
    return CLI_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(cmd, commands[i].name) == 0 ||
        (commands[i].alias && strcmp(cmd, commands[i].alias) == 0))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr,
          "entryfy-audit: unknown command '%s' (try entryfy-audit --help)\n",
          cmd);
  return CLI_USAGE;
}

/* ---- option parsing ---- */

enum {
  O_DB = 1,
  O_HELP,
  O_USER,
  O_AS,
  O_SINCE,
  O_UNTIL,
  O_TYPE,
  O_DOOR,
  O_GROUP,
  O_DEVICE,
  O_SITE,
  O_SEARCH,
  O_LIMIT,
  O_AFTER,
  O_ORDER,
  O_FORMAT,
  O_OUTPUT
};

typedef struct shared_opt {
  cli_opt o;
  int family; /* 0: every command */
} shared_opt;

static const shared_opt shared[] = {
    {{"db", 0, 1, O_DB}, 0},
    {{"help", 'h', 0, O_HELP}, 0},
    {{"user", 'u', 1, O_USER}, CLI_F_FILTER},
    {{"as", 0, 1, O_AS}, CLI_F_FILTER},
    {{"since", 'S', 1, O_SINCE}, CLI_F_FILTER},
    {{"until", 'U', 1, O_UNTIL}, CLI_F_FILTER},
    {{"type", 't', 1, O_TYPE}, CLI_F_FILTER},
    {{"door", 0, 1, O_DOOR}, CLI_F_FILTER},
    {{"group", 0, 1, O_GROUP}, CLI_F_FILTER},
    {{"device", 0, 1, O_DEVICE}, CLI_F_FILTER},
    {{"site", 0, 1, O_SITE}, CLI_F_FILTER},
    {{"search", 's', 1, O_SEARCH}, CLI_F_FILTER},
    {{"limit", 'n', 1, O_LIMIT}, CLI_F_PAGE},
    {{"after", 0, 1, O_AFTER}, CLI_F_PAGE},
    {{"order", 0, 1, O_ORDER}, CLI_F_PAGE},
    {{"format", 'f', 1, O_FORMAT}, CLI_F_FORMAT},
    {{"output", 'o', 1, O_OUTPUT}, CLI_F_OUTPUT},
};
#define N_SHARED (sizeof shared / sizeof shared[0])

static int add_types(cli *c, const char *val) {
  const char *p = val;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n > 0) {
      if (c->f.n_types == CLI_MAX_TYPES)
        return cli_usage(c, "too many --type values (at most %d)",
                         CLI_MAX_TYPES);
      char *t = malloc(n + 1);
      if (t == NULL)
        return cli_fail(c, CLI_FAIL, "out of memory");
      memcpy(t, p, n);
      t[n] = 0;
      c->f.types[c->f.n_types++] = t;
    }
    p += n + (e != NULL);
  }
  return -1;
}

static int shared_opt_set(cli *c, int id, const char *val) {
  switch (id) {
  case O_DB:
    if (!*val)
      return cli_usage(c, "--db needs a path");
    c->db = val;
    break;
  case O_HELP:
    fputs(c->usage, stdout);
    return CLI_OK;
  case O_USER: c->f.user = val; c->f.given = 1; break;
  case O_AS: c->f.as = val; break;
  case O_SINCE: c->f.since = val; c->f.given = 1; break;
  case O_UNTIL: c->f.until = val; c->f.given = 1; break;
  case O_TYPE: c->f.given = 1; return add_types(c, val);
  case O_DOOR: c->f.door = val; c->f.given = 1; break;
  case O_GROUP: c->f.group = val; c->f.given = 1; break;
  case O_DEVICE: c->f.device = val; c->f.given = 1; break;
  case O_SITE: c->f.site = val; c->f.given = 1; break;
  case O_SEARCH: c->f.search = val; c->f.given = 1; break;
  case O_LIMIT: c->f.limit = val; break;
  case O_AFTER: c->f.after = val; break;
  case O_ORDER: c->f.order = val; break;
  case O_FORMAT: c->format = val; break;
  case O_OUTPUT: c->output = val; break;
  }
  return -1;
}

int cli_parse_instant(eaudit_store *s, const char *text, eaudit_time *out) {
  /* RFC 3339 with an offset: a date, 'T', a time and Z or +hh:mm/-hh:mm. */
  const char *t = strchr(text, 'T');
  if (t == NULL)
    t = strchr(text, 't');
  if (t == NULL || t - text != 10)
    return -1;
  size_t n = strlen(text);
  if (n == 0 || !(text[n - 1] == 'Z' || text[n - 1] == 'z' ||
                  strchr(t, '+') != NULL || strchr(t, '-') != NULL))
    return -1;
  eaudit_time b, e;
  if (eaudit_store_parse_time(s, text, 0, &b, &e) || b != e)
    return -1;
  *out = b;
  return 0;
}

static int env_now(cli *c) {
  const char *v = getenv("ENTRYFY_AUDIT_NOW");
  if (v == NULL || !*v)
    return -1;
  /* The library parses RFC 3339; a scratch in-memory store lends it. */
  eaudit_store *tmp;
  int rc = eaudit_store_open(&tmp, ":memory:", NULL);
  if (rc)
    return cli_lib_fail(c, rc, "cannot read ENTRYFY_AUDIT_NOW");
  rc = cli_parse_instant(tmp, v, &c->now);
  eaudit_store_free(tmp);
  if (rc)
    return cli_usage(c,
                     "ENTRYFY_AUDIT_NOW='%s' is not an RFC 3339 time with an "
                     "offset (2026-11-03T14:05:00Z)",
                     v);
  c->has_now = 1;
  return -1;
}

int cli_parse(cli *c, int argc, char **argv, const char *usage, int families,
              const cli_opt *opts,
              int (*on_opt)(cli *c, int id, const char *val, void *p),
              void *payload) {
  memset(c, 0, sizeof *c);
  c->cmd = argv[0];
  c->usage = usage;
  const char *env = getenv("ENTRYFY_AUDIT_DB");
  c->db = env && *env ? env : CLI_DEFAULT_DB;
  c->args = calloc((size_t)argc + 1, sizeof *c->args);
  if (c->args == NULL)
    return cli_fail(c, CLI_FAIL, "out of memory");
  int only_args = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    /* "-", and relative times such as -2h or -1mo, are arguments. */
    if (only_args || a[0] != '-' || a[1] == 0 || (a[1] >= '0' && a[1] <= '9')) {
      c->args[c->n_args++] = argv[i];
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_args = 1;
      continue;
    }
    const cli_opt *found = NULL;
    int is_shared = 0;
    const char *inline_val = NULL;
    char name[64];
    if (a[1] == '-') {
      const char *eq = strchr(a + 2, '=');
      size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
      if (n >= sizeof name)
        n = sizeof name - 1;
      memcpy(name, a + 2, n);
      name[n] = 0;
      if (eq)
        inline_val = eq + 1;
      for (const cli_opt *o = opts; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
          found = o;
      for (size_t k = 0; !found && k < N_SHARED; k++)
        if ((shared[k].family == 0 || (shared[k].family & families)) &&
            strcmp(shared[k].o.name, name) == 0) {
          found = &shared[k].o;
          is_shared = 1;
        }
    } else {
      snprintf(name, sizeof name, "%c", a[1]);
      if (a[2])
        inline_val = a + 2;
      for (const cli_opt *o = opts; o && o->name; o++)
        if (o->short_name && o->short_name == a[1])
          found = o;
      for (size_t k = 0; !found && k < N_SHARED; k++)
        if ((shared[k].family == 0 || (shared[k].family & families)) &&
            shared[k].o.short_name == a[1]) {
          found = &shared[k].o;
          is_shared = 1;
        }
    }
    if (found == NULL)
      return cli_usage(c, "unknown option '%s'", a);
    const char *val = NULL;
    if (found->has_arg) {
      if (inline_val)
        val = inline_val;
      else if (i + 1 < argc)
        val = argv[++i];
      else
        return cli_usage(c, "option '%s' needs a value", a);
    } else if (inline_val) {
      return cli_usage(c, "option '%s' takes no value", a);
    }
    int rc = is_shared ? shared_opt_set(c, found->id, val)
                       : on_opt(c, found->id, val, payload);
    if (rc >= 0)
      return rc;
  }
  if (c->f.as && !c->f.user)
    return cli_usage(c, "--as needs --user");
  return env_now(c);
}

void cli_free(cli *c) {
  for (size_t i = 0; i < c->f.n_types; i++)
    free(c->f.types[i]);
  c->f.n_types = 0;
  free(c->args);
  c->args = NULL;
}

/* ---- messages ---- */

static void vmsg(const cli *c, const char *fmt, va_list ap) {
  fprintf(stderr, "entryfy-audit%s%s: ", c && c->cmd ? " " : "",
          c && c->cmd ? c->cmd : "");
  vfprintf(stderr, fmt, ap);
}

int cli_fail(const cli *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg(c, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

int cli_usage(const cli *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg(c, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see entryfy-audit %s --help)\n",
          c && c->cmd ? c->cmd : "");
  return CLI_USAGE;
}

int cli_lib_fail(const cli *c, int rc, const char *fmt, ...) {
  const eaudit_error *e = eaudit_error_last();
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", e->code == rc ? e->message
                                                : eaudit_strerror(rc));
  va_list ap;
  va_start(ap, fmt);
  vmsg(c, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s\n", msg);
  switch (rc) {
  case EAUDIT_EINVAL:
  case EAUDIT_ETIME:
  case EAUDIT_ETYPE:
  case EAUDIT_ECURSOR:
  case EAUDIT_ERANGE:
  case EAUDIT_ETZ:
  case EAUDIT_EOPTION:
  case EAUDIT_ERULES:
    return CLI_USAGE;
  default:
    return CLI_FAIL;
  }
}

/* ---- stores ---- */

static eaudit_time fixed_clock(void *payload) {
  return *(const eaudit_time *)payload;
}

eaudit_time cli_now(const cli *c) {
  return c->has_now ? c->now : EAUDIT_TIME_NONE;
}

static int open_store(cli *c, int create, int fix_clock, const char *zone,
                      int read_only, eaudit_store **out) {
  /* A postgresql:// URI names a database, not a file. */
  int uri = strncmp(c->db, "postgresql://", 13) == 0 ||
            strncmp(c->db, "postgres://", 11) == 0;
  if (!create && !uri && access(c->db, F_OK) != 0)
    return cli_fail(c, CLI_FAIL,
                    "no store at '%s' (%s); give --db PATH or set "
                    "ENTRYFY_AUDIT_DB, or create one with 'entryfy-audit "
                    "demo'",
                    c->db, strerror(errno));
  eaudit_options *o;
  int rc = eaudit_options_new(&o);
  if (rc == 0)
    rc = eaudit_options_set_int(o, EAUDIT_OPT_CREATE, create ? 1 : 0);
  if (rc == 0 && zone)
    rc = eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, zone);
  if (rc == 0 && fix_clock && c->has_now)
    rc = eaudit_options_set_clock(o, fixed_clock, &c->now);
  if (rc == 0 && read_only)
    rc = eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 1);
  if (rc) {
    int code = cli_lib_fail(c, rc, "bad store options");
    eaudit_options_free(o);
    return code;
  }
  rc = eaudit_store_open(out, c->db, o);
  eaudit_options_free(o);
  if (rc == EAUDIT_ECORRUPT)
    return cli_lib_fail(c, rc,
                        "'%s' is not an entryfy-audit store, or it is "
                        "damaged (left unchanged)",
                        c->db);
  if (rc == EAUDIT_ESCHEMA)
    return cli_lib_fail(c, rc, "'%s' was written by a newer library", c->db);
  if (rc) {
    int code = cli_lib_fail(c, rc, "cannot open '%s'", c->db);
    return rc == EAUDIT_ETZ ? code : CLI_FAIL;
  }
  return CLI_OK;
}

int cli_open(cli *c, int create, int fix_clock, const char *zone,
             eaudit_store **out) {
  return open_store(c, create, fix_clock, zone, 0, out);
}

int cli_open_read_only(cli *c, int fix_clock, eaudit_store **out) {
  return open_store(c, 0, fix_clock, NULL, 1, out);
}

int cli_parse_i64(const char *text, int64_t *out) {
  if (text == NULL || !*text)
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end)
    return -1;
  *out = v;
  return 0;
}

int cli_resolve_user(cli *c, eaudit_store *s, const char *text, int64_t *out) {
  if (cli_parse_i64(text, out) == 0)
    return *out > 0 ? -1 : cli_usage(c, "--user must be a positive id");
  eaudit_users *u;
  int rc = eaudit_store_users(s, text, 10, &u);
  if (rc)
    return cli_lib_fail(c, rc, "looking up user '%s'", text);
  size_t n = eaudit_users_size(u);
  int ret = -1;
  if (n == 1) {
    eaudit_users_get(u, 0, out, NULL, NULL, NULL, NULL);
  } else if (n == 0) {
    ret = cli_fail(c, CLI_NOTHING, "no user named '%s'", text);
  } else {
    fprintf(stderr,
            "entryfy-audit %s: '%s' names several users; give an id:\n",
            c->cmd, text);
    for (size_t i = 0; i < n; i++) {
      int64_t id;
      const char *name;
      eaudit_users_get(u, i, &id, &name, NULL, NULL, NULL);
      fprintf(stderr, "  %lld  %s\n", (long long)id, name ? name : "");
    }
    ret = CLI_USAGE;
  }
  eaudit_users_free(u);
  return ret;
}

static int entity(cli *c, eaudit_query *q, const char *flag, const char *val,
                  int field) {
  int64_t id;
  if (val == NULL)
    return -1;
  if (cli_parse_i64(val, &id) || id <= 0)
    return cli_usage(c, "--%s needs a positive id, not '%s'", flag, val);
  int rc = eaudit_query_set_entity(q, field, id);
  return rc ? cli_lib_fail(c, rc, "--%s", flag) : -1;
}

static int time_flag(cli *c, eaudit_store *s, const char *flag,
                     const char *val, eaudit_time *out) {
  eaudit_time b, e;
  int rc = eaudit_store_parse_time(s, val, cli_now(c), &b, &e);
  if (rc)
    return cli_usage(c,
                     "--%s '%s' is not a time (try now, today, yesterday, "
                     "this-week, last-month, -2h, -7d, -1mo, 2026-11-03, "
                     "2026-11-03T14:05)",
                     flag, val);
  *out = b;
  return -1;
}

int cli_build_query(cli *c, eaudit_store *s, int default_view,
                    eaudit_query **out) {
  eaudit_query *q = NULL;
  int rc, ret = -1;
  if (default_view && !c->f.given) {
    rc = eaudit_store_default_query(s, &q);
    if (rc)
      return cli_lib_fail(c, rc, "building the default view");
    /* The library's view ends at the store's clock; ENTRYFY_AUDIT_NOW
     * fixes that clock for read-only commands (cli_open). */
  } else {
    if ((rc = eaudit_query_new(&q)))
      return cli_lib_fail(c, rc, "building the query");
  }
  if (c->f.user) {
    int64_t uid;
    int role = EAUDIT_ROLE_ANY;
    if ((ret = cli_resolve_user(c, s, c->f.user, &uid)) >= 0)
      goto fail;
    if (c->f.as == NULL || strcmp(c->f.as, "any") == 0)
      role = EAUDIT_ROLE_ANY;
    else if (strcmp(c->f.as, "subject") == 0)
      role = EAUDIT_ROLE_SUBJECT;
    else if (strcmp(c->f.as, "actor") == 0)
      role = EAUDIT_ROLE_ACTOR;
    else {
      ret = cli_usage(c, "--as must be subject, actor or any, not '%s'",
                      c->f.as);
      goto fail;
    }
    eaudit_query_set_user(q, uid, role);
  }
  if (c->f.since || c->f.until) {
    eaudit_time since = EAUDIT_TIME_NONE, until = EAUDIT_TIME_NONE;
    if (c->f.since && (ret = time_flag(c, s, "since", c->f.since, &since)) >= 0)
      goto fail;
    if (c->f.until && (ret = time_flag(c, s, "until", c->f.until, &until)) >= 0)
      goto fail;
    if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE &&
        since >= until) {
      ret = cli_usage(c, "--since '%s' is not before --until '%s'",
                      c->f.since, c->f.until);
      goto fail;
    }
    if ((rc = eaudit_query_set_interval(q, since, until))) {
      ret = cli_lib_fail(c, rc, "--since/--until");
      goto fail;
    }
  }
  for (size_t i = 0; i < c->f.n_types; i++) {
    int code;
    int64_t n;
    if (cli_parse_i64(c->f.types[i], &n) == 0)
      code = (int)n;
    else if (eaudit_store_type_from_name(s, c->f.types[i], &code)) {
      ret = cli_usage(c,
                      "unknown --type '%s' (names such as door_opened, "
                      "door_open_failed, login_unrecognized_device, or codes)",
                      c->f.types[i]);
      goto fail;
    }
    if (eaudit_store_type_name(s, code) == NULL) {
      ret = cli_usage(c, "unknown --type '%s'", c->f.types[i]);
      goto fail;
    }
    if ((rc = eaudit_query_add_type(q, code))) {
      ret = cli_lib_fail(c, rc, "--type '%s'", c->f.types[i]);
      goto fail;
    }
  }
  if ((ret = entity(c, q, "door", c->f.door, EAUDIT_FIELD_DOOR)) >= 0 ||
      (ret = entity(c, q, "group", c->f.group, EAUDIT_FIELD_GROUP)) >= 0 ||
      (ret = entity(c, q, "device", c->f.device, EAUDIT_FIELD_DEVICE)) >= 0 ||
      (ret = entity(c, q, "site", c->f.site, EAUDIT_FIELD_SITE)) >= 0)
    goto fail;
  if (c->f.search && (rc = eaudit_query_set_text(q, c->f.search))) {
    ret = cli_lib_fail(c, rc, "--search '%s'", c->f.search);
    goto fail;
  }
  if (c->f.limit) {
    int64_t n;
    if (cli_parse_i64(c->f.limit, &n) || n < 0) {
      ret = cli_usage(c, "--limit needs a number >= 0, not '%s'", c->f.limit);
      goto fail;
    }
    eaudit_query_set_limit(q, (size_t)n);
  }
  if (c->f.order) {
    int order;
    if (strcmp(c->f.order, "newest") == 0)
      order = EAUDIT_ORDER_NEWEST_FIRST;
    else if (strcmp(c->f.order, "oldest") == 0)
      order = EAUDIT_ORDER_OLDEST_FIRST;
    else {
      ret = cli_usage(c, "--order must be newest or oldest, not '%s'",
                      c->f.order);
      goto fail;
    }
    eaudit_query_set_order(q, order);
  }
  if (c->f.after && (rc = eaudit_query_set_after(q, c->f.after))) {
    ret = cli_usage(c, "--after '%s' is not a cursor printed by an earlier "
                       "page", c->f.after);
    goto fail;
  }
  *out = q;
  return -1;
fail:
  eaudit_query_free(q);
  return ret;
}

int cli_open_output(cli *c, FILE **out) {
  if (c->output == NULL || strcmp(c->output, "-") == 0) {
    *out = stdout;
    return -1;
  }
  FILE *f = fopen(c->output, "w");
  if (f == NULL)
    return cli_fail(c, CLI_FAIL, "cannot write '%s': %s", c->output,
                    strerror(errno));
  *out = f;
  return -1;
}

int cli_close_output(cli *c, FILE *f) {
  int bad = ferror(f) || fflush(f) != 0;
  if (f != stdout)
    bad |= fclose(f) != 0;
  if (bad)
    return cli_fail(c, CLI_FAIL, "writing '%s' failed: %s",
                    c->output && f != stdout ? c->output : "standard output",
                    strerror(errno));
  return -1;
}

int cli_term_width(int fd) {
  struct winsize ws;
  if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 0;
}
