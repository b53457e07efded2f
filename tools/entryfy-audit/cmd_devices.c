/* devices: the devices known to device recognition
 * (include/eaudit/device.h): the list, renaming and forgetting. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit devices [--db PATH] [--user ID] [--kind K] "
    "[--format FMT]\n"
    "       entryfy-audit devices rename DEVICE-ID LABEL\n"
    "       entryfy-audit devices forget DEVICE-ID\n"
    "       entryfy-audit devices forget-unseen --days N\n"
    "\n"
    "List recognised devices, by user then id: id, user, kind, label,\n"
    "platform, OS, browser (the app for mobile), model, first and last seen\n"
    "and how often seen. Without --user, every user's devices.\n"
    "\n"
    "  -u, --user ID      one user's devices\n"
    "  --kind K           web (admin console sessions) or mobile\n"
    "  --days N           forget-unseen: devices unseen for N days\n"
    "  -f, --format FMT   table (default) or jsonl\n"
    "\n"
    "rename gives a device a label, which reports show from then on.\n"
    "forget makes the device's next login a new device (its id is never\n"
    "reused). forget-unseen forgets every device not seen for N days.\n"
    "\n"
    "Exit status: 0, 1 no device matched (or no device has that id), 2\n"
    "usage error, 3 store error.\n";

enum { D_KIND = 100, D_DAYS };
static const cli_opt opts[] = {
    {"kind", 0, 1, D_KIND}, {"days", 0, 1, D_DAYS}, {NULL, 0, 0, 0}};

typedef struct {
  int kind;
  int64_t days;
} devices_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  devices_args *a = p;
  if (id == D_KIND) {
    if (strcmp(val, "web") == 0)
      a->kind = EAUDIT_DEVICE_ADMIN_WEB;
    else if (strcmp(val, "mobile") == 0)
      a->kind = EAUDIT_DEVICE_MOBILE;
    else
      return cli_usage(c, "--kind must be web or mobile, not '%s'", val);
  }
  if (id == D_DAYS &&
      (cli_parse_i64(val, &a->days) || a->days < 1 || a->days > 100000))
    return cli_usage(c, "--days needs a number from 1 to 100000, not '%s'",
                     val);
  return -1;
}

static const char *attr(const eaudit_devices *l, size_t i, int a) {
  const char *v = eaudit_devices_attr(l, i, a);
  return v ? v : "";
}

/* "iOS 17.2", "Chrome 120.0" */
static void pair(char *buf, size_t size, const char *a, const char *b) {
  snprintf(buf, size, "%s%s%s", a, *a && *b ? " " : "", b);
}

static void print_device(FILE *f, eaudit_store *s, const eaudit_devices *l,
                         size_t i, int64_t user, int jsonl, size_t *n) {
  int64_t id = 0, times = 0;
  int kind = 0;
  const char *label = NULL;
  eaudit_time first = 0, last = 0;
  eaudit_devices_get(l, i, &id, &kind, &label, &first, &last, &times);
  char t1[EAUDIT_TIME_STRMAX], t2[EAUDIT_TIME_STRMAX];
  const char *kn = kind == EAUDIT_DEVICE_ADMIN_WEB ? "web" : "mobile";
  if (jsonl) {
    static const struct {
      int a;
      const char *key;
    } attrs[] = {{EAUDIT_DEVATTR_PLATFORM, "platform"},
                 {EAUDIT_DEVATTR_OS_FAMILY, "os_family"},
                 {EAUDIT_DEVATTR_OS_VERSION, "os_version"},
                 {EAUDIT_DEVATTR_BROWSER_FAMILY, "browser_family"},
                 {EAUDIT_DEVATTR_BROWSER_VERSION, "browser_version"},
                 {EAUDIT_DEVATTR_MODEL, "model"},
                 {EAUDIT_DEVATTR_SCREEN, "screen"},
                 {EAUDIT_DEVATTR_TIME_ZONE, "time_zone"},
                 {EAUDIT_DEVATTR_LANGUAGE, "language"},
                 {EAUDIT_DEVATTR_IP, "ip"}};
    eaudit_store_format_time(s, first, EAUDIT_TIME_RFC3339_UTC, t1, sizeof t1);
    eaudit_store_format_time(s, last, EAUDIT_TIME_RFC3339_UTC, t2, sizeof t2);
    fprintf(f, "{\"id\":%" PRId64 ",\"user\":%" PRId64 ",\"kind\":\"%s\","
               "\"label\":",
            id, user, kn);
    if (label)
      out_json_string(f, label);
    else
      fputs("null", f);
    for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++) {
      const char *v = eaudit_devices_attr(l, i, attrs[k].a);
      fprintf(f, ",\"%s\":", attrs[k].key);
      if (v)
        out_json_string(f, v);
      else
        fputs("null", f);
    }
    fprintf(f, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\","
               "\"times_seen\":%" PRId64 "}\n",
            t1, t2, times);
  } else {
    char os[128], br[128];
    eaudit_store_format_time(s, first, EAUDIT_TIME_LOCAL, t1, sizeof t1);
    eaudit_store_format_time(s, last, EAUDIT_TIME_LOCAL, t2, sizeof t2);
    pair(os, sizeof os, attr(l, i, EAUDIT_DEVATTR_OS_FAMILY),
         attr(l, i, EAUDIT_DEVATTR_OS_VERSION));
    pair(br, sizeof br, attr(l, i, EAUDIT_DEVATTR_BROWSER_FAMILY),
         attr(l, i, EAUDIT_DEVATTR_BROWSER_VERSION));
    if (*n == 0)
      fprintf(f, "%6s  %6s  %-6s  %-30s  %-10s  %-14s  %-18s  %-14s  %-19s  "
                 "%-19s  %s\n",
              "ID", "USER", "KIND", "LABEL", "PLATFORM", "OS", "BROWSER/APP",
              "MODEL", "FIRST SEEN", "LAST SEEN", "SEEN");
    fprintf(f, "%6" PRId64 "  %6" PRId64 "  %-6s  %-30.30s  %-10.10s  "
               "%-14.14s  %-18.18s  %-14.14s  %-19s  %-19s  %" PRId64 "\n",
            id, user, kn, label ? label : "",
            attr(l, i, EAUDIT_DEVATTR_PLATFORM), os, br,
            attr(l, i, EAUDIT_DEVATTR_MODEL), t1, t2, times);
  }
  (*n)++;
}

static int list_user(cli *c, eaudit_store *s, int64_t user, int kind,
                     int jsonl, size_t *n) {
  eaudit_devices *l = NULL;
  int rc = eaudit_store_devices(s, user, kind, &l);
  if (rc)
    return cli_lib_fail(c, rc, "listing the devices of user %" PRId64, user);
  for (size_t i = 0; i < eaudit_devices_size(l); i++)
    print_device(stdout, s, l, i, user, jsonl, n);
  eaudit_devices_free(l);
  return -1;
}

static int device_id(cli *c, const char *text, int64_t *out) {
  if (cli_parse_i64(text, out) || *out <= 0)
    return cli_usage(c, "'%s' is not a device id (a number as listed by "
                        "'entryfy-audit devices')", text);
  return -1;
}

static int maintain(cli *c, const devices_args *a) {
  const char *what = c->args[0];
  int64_t id = 0;
  int ret;
  if (strcmp(what, "forget-unseen") != 0 &&
      (ret = device_id(c, c->args[1], &id)) >= 0)
    return ret;
  if (strcmp(what, "rename") == 0 && !*c->args[2])
    return cli_usage(c, "the label must not be empty");
  if (strcmp(what, "forget-unseen") == 0 && a->days == 0)
    return cli_usage(c, "forget-unseen needs --days N");
  /* forget-unseen counts days back from ENTRYFY_AUDIT_NOW when it is set
   * (it appends no event); a rename is dated by the real clock. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(c, 0, strcmp(what, "forget-unseen") == 0, NULL, &s)) !=
      CLI_OK)
    return ret;
  ret = -1;
  int rc;
  int64_t n = 0;
  if (strcmp(what, "rename") == 0)
    rc = eaudit_store_rename_device(s, id, c->args[2]);
  else if (strcmp(what, "forget") == 0)
    rc = eaudit_store_forget_device(s, id);
  else
    rc = eaudit_store_forget_unseen_devices(s, (int)a->days, &n);
  if (rc == EAUDIT_ENOTFOUND)
    ret = cli_fail(c, CLI_NOTHING, "no device has the id %" PRId64, id);
  else if (rc)
    ret = cli_lib_fail(c, rc, "%s failed", what);
  else if (strcmp(what, "rename") == 0)
    printf("device %" PRId64 " is now '%s'\n", id, c->args[2]);
  else if (strcmp(what, "forget") == 0)
    printf("forgot device %" PRId64 "\n", id);
  else
    printf("forgot %" PRId64 " devices unseen for %" PRId64 " days\n", n,
           a->days);
  eaudit_store_free(s);
  return ret < 0 ? CLI_OK : ret;
}

int cmd_devices(int argc, char **argv) {
  cli c;
  devices_args a = {0, 0};
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FILTER | CLI_F_FORMAT,
                      opts, on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_users *users = NULL;
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
  if (c.f.as || c.f.since || c.f.until || c.f.n_types || c.f.door ||
      c.f.group || c.f.device || c.f.site || c.f.search) {
    ret = cli_usage(&c, "devices are filtered by --user and --kind only");
    goto done;
  }
  if (c.n_args) {
    const char *a0 = c.args[0];
    size_t want = strcmp(a0, "rename") == 0          ? 3
                  : strcmp(a0, "forget") == 0        ? 2
                  : strcmp(a0, "forget-unseen") == 0 ? 1
                                                     : 0;
    if (want == 0 || c.n_args != want) {
      ret = cli_usage(&c, "expected 'rename ID LABEL', 'forget ID' or "
                          "'forget-unseen --days N'");
      goto done;
    }
    ret = maintain(&c, &a);
    goto done;
  }
  if (a.days) {
    ret = cli_usage(&c, "--days goes with forget-unseen");
    goto done;
  }
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  ret = -1;
  size_t n = 0;
  if (c.f.user) {
    int64_t uid;
    if ((ret = cli_resolve_user(&c, s, c.f.user, &uid)) >= 0)
      goto done;
    ret = list_user(&c, s, uid, a.kind, format == OUT_JSONL, &n);
  } else {
    int rc = eaudit_store_users(s, NULL, 0, &users);
    if (rc) {
      ret = cli_lib_fail(&c, rc, "listing users");
      goto done;
    }
    for (size_t i = 0; ret < 0 && i < eaudit_users_size(users); i++) {
      int64_t uid;
      eaudit_users_get(users, i, &uid, NULL, NULL, NULL, NULL);
      ret = list_user(&c, s, uid, a.kind, format == OUT_JSONL, &n);
    }
  }
  if (ret < 0) {
    if (n == 0 && format == OUT_TABLE)
      fprintf(stderr, "entryfy-audit devices: no devices matched\n");
    ret = n ? CLI_OK : CLI_NOTHING;
  }
done:
  eaudit_users_free(users);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
