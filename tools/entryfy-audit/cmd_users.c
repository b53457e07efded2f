/* users: the console's user picker; name: set a display name in the
 * directory (with history, so reports show the name of the time). */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char users_usage[] =
    "usage: entryfy-audit users [--db PATH] [--prefix TEXT] [-n N]\n"
    "\n"
    "List users (in the directory or seen in events): id, name, role, last\n"
    "activity, and whether their permissions are expired now.\n"
    "\n"
    "  --prefix TEXT      users whose current or past name starts with TEXT\n"
    "  -n, --limit N      at most N users\n"
    "  -f, --format FMT   table (default) or csv\n"
    "\n"
    "Exit status: 0, 1 when no user matched, 2 usage error, 3 store error.\n";

enum { U_PREFIX = 100 };
static const cli_opt users_opts[] = {{"prefix", 0, 1, U_PREFIX},
                                     {NULL, 0, 0, 0}};

static int users_opt(cli *c, int id, const char *val, void *p) {
  (void)c;
  (void)id;
  *(const char **)p = val;
  return -1;
}

int cmd_users(int argc, char **argv) {
  cli c;
  const char *prefix = NULL;
  int ret = cli_parse(&c, argc, argv, users_usage, CLI_F_PAGE | CLI_F_FORMAT,
                      users_opts, users_opt, &prefix);
  eaudit_store *s = NULL;
  eaudit_users *u = NULL;
  int64_t limit = 0;
  int format = OUT_TABLE;
  if (ret >= 0)
    goto done;
  if (c.n_args || c.f.after || c.f.order) {
    ret = cli_usage(&c, "users takes --prefix, --limit and --format only");
    goto done;
  }
  if (c.f.limit && (cli_parse_i64(c.f.limit, &limit) || limit < 0)) {
    ret = cli_usage(&c, "--limit needs a number >= 0, not '%s'", c.f.limit);
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
  int rc = eaudit_store_users(s, prefix, (size_t)limit, &u);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "listing users");
    goto done;
  }
  size_t n = eaudit_users_size(u);
  if (format == OUT_CSV)
    printf("id,name,role,last_activity,expired\r\n");
  else if (n)
    printf("%8s  %-28s %-6s %-19s %s\n", "ID", "NAME", "ROLE",
           "LAST ACTIVITY", "EXPIRED");
  for (size_t i = 0; i < n; i++) {
    int64_t id;
    const char *name;
    int role, expired;
    eaudit_time last;
    eaudit_users_get(u, i, &id, &name, &role, &last, &expired);
    char t[EAUDIT_TIME_STRMAX] = "";
    if (last != EAUDIT_TIME_NONE)
      eaudit_store_format_time(s, last, format == OUT_CSV
                                            ? EAUDIT_TIME_RFC3339_UTC
                                            : EAUDIT_TIME_LOCAL,
                               t, sizeof t);
    const char *r = role == EAUDIT_USER_ROLE_ADMIN ? "admin" : "user";
    if (format == OUT_CSV) {
      printf("%" PRId64 ",", id);
      if (name) {
        putchar('"');
        for (const char *p = name; *p; p++) {
          if (*p == '"')
            putchar('"');
          putchar(*p);
        }
        putchar('"');
      }
      printf(",%s,%s,%d\r\n", r, t, expired);
    } else {
      printf("%8" PRId64 "  %-28s %-6s %-19s %s\n", id, name ? name : "-", r,
             t[0] ? t : "-", expired ? "EXPIRED" : "");
    }
  }
  ret = n ? CLI_OK : CLI_NOTHING;
  if (!n)
    fprintf(stderr, "entryfy-audit: no users matched\n");
done:
  eaudit_users_free(u);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}

static const char name_usage[] =
    "usage: entryfy-audit name [--db PATH] KIND ID NAME [--from TIME] "
    "[--role ROLE]\n"
    "\n"
    "Set the display name of a user, door, group, device or site (KIND) in\n"
    "the directory. Earlier names are kept: reports show the name an entity\n"
    "had when each event happened, and search finds old and new names.\n"
    "\n"
    "  --from TIME        the name holds from TIME on (default: always)\n"
    "  --role ROLE        users only: user (default) or admin\n"
    "\n"
    "Exit status: 0, 2 usage error, 3 store error.\n";

enum { N_FROM = 100, N_ROLE };
static const cli_opt name_opts[] = {
    {"from", 0, 1, N_FROM}, {"role", 0, 1, N_ROLE}, {NULL, 0, 0, 0}};

typedef struct {
  const char *from, *role;
} name_args;

static int name_opt(cli *c, int id, const char *val, void *p) {
  (void)c;
  name_args *a = p;
  if (id == N_FROM)
    a->from = val;
  else
    a->role = val;
  return -1;
}

int cmd_name(int argc, char **argv) {
  cli c;
  name_args a = {NULL, NULL};
  int ret = cli_parse(&c, argc, argv, name_usage, 0, name_opts, name_opt, &a);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  static const char *const kinds[] = {"user", "door", "group", "device",
                                      "site"};
  static const int kind_codes[] = {EAUDIT_KIND_USER, EAUDIT_KIND_DOOR,
                                   EAUDIT_KIND_GROUP, EAUDIT_KIND_DEVICE,
                                   EAUDIT_KIND_SITE};
  if (c.n_args != 3) {
    ret = cli_usage(&c, "give KIND ID NAME");
    goto done;
  }
  int kind = 0;
  for (int i = 0; i < 5; i++)
    if (strcmp(c.args[0], kinds[i]) == 0)
      kind = kind_codes[i];
  int64_t id;
  if (!kind) {
    ret = cli_usage(&c, "KIND must be user, door, group, device or site, not "
                        "'%s'", c.args[0]);
    goto done;
  }
  if (cli_parse_i64(c.args[1], &id) || id <= 0) {
    ret = cli_usage(&c, "ID must be a positive number, not '%s'", c.args[1]);
    goto done;
  }
  int role = EAUDIT_USER_ROLE_USER;
  if (a.role) {
    if (kind != EAUDIT_KIND_USER) {
      ret = cli_usage(&c, "--role is for users only");
      goto done;
    }
    if (strcmp(a.role, "admin") == 0)
      role = EAUDIT_USER_ROLE_ADMIN;
    else if (strcmp(a.role, "user") != 0) {
      ret = cli_usage(&c, "--role must be user or admin, not '%s'", a.role);
      goto done;
    }
  }
  if ((ret = cli_open(&c, 0, 0, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_time from = EAUDIT_TIME_NONE, end;
  if (a.from && eaudit_store_parse_time(s, a.from, cli_now(&c), &from, &end)) {
    ret = cli_usage(&c, "--from '%s' is not a time", a.from);
    goto done;
  }
  int rc = kind == EAUDIT_KIND_USER
               ? eaudit_store_set_user(s, id, c.args[2], role, from)
               : eaudit_store_set_name(s, kind, id, c.args[2], from);
  ret = rc ? cli_lib_fail(&c, rc, "setting the name") : CLI_OK;
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
