/* purge: retention through eaudit_store_purge() (include/eaudit/integrity.h,
 * docs/integrity.md). --dry-run asks the library's purge plan on a
 * read-only handle. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit purge [--db PATH] --older-than TIME --actor ID\n"
    "                           [--signing-key FILE] [--batch N] "
    "[--dry-run]\n"
    "\n"
    "Remove the oldest events: every event up to the highest seq S such\n"
    "that all events up to S happened before TIME (a late event with an old\n"
    "time waits until the events before it are old enough too). Works in\n"
    "short batches, each checking the links it removes (damaged evidence is\n"
    "refused: run verify) and moving a signed anchor, so the rest of the\n"
    "chain still verifies. Records 'Audit log purged' naming --actor. Seq\n"
    "numbers are never reused. Events the anomaly rules still read (the\n"
    "longest rule window and the lateness bound behind the newest event)\n"
    "are kept: the limit moves back to spare them.\n"
    "\n"
    "  --older-than TIME   the retention limit: a time word (-90d, -1y,\n"
    "                      last-month) or a date (2026-01-01, its start)\n"
    "  --actor ID          who asked for the purge\n"
    "  --signing-key FILE  the signing key (keygen writes it); a signed\n"
    "                      store needs it to sign the new anchor\n"
    "  --batch N           events per transaction (default: as many as\n"
    "                      hold the write lock about 20 ms)\n"
    "  --dry-run           print how many events would go and write\n"
    "                      nothing (the library's purge plan, read-only)\n"
    "\n"
    "Exit status: 0, 1 nothing to purge, 2 usage error (or the signing key\n"
    "is missing or not the store's), 3 store error, 4 the events to purge\n"
    "do not verify (nothing of them was removed).\n";

enum { P_OLDER = 100, P_ACTOR, P_KEY, P_BATCH, P_DRY };
static const cli_opt opts[] = {{"older-than", 0, 1, P_OLDER},
                               {"actor", 0, 1, P_ACTOR},
                               {"signing-key", 0, 1, P_KEY},
                               {"batch", 0, 1, P_BATCH},
                               {"dry-run", 0, 0, P_DRY},
                               {NULL, 0, 0, 0}};

typedef struct {
  const char *older, *key;
  int64_t actor, batch;
  int dry;
} purge_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  purge_args *a = p;
  switch (id) {
  case P_OLDER:
    a->older = val;
    break;
  case P_ACTOR:
    if (cli_parse_i64(val, &a->actor) || a->actor <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    break;
  case P_KEY:
    a->key = val;
    break;
  case P_BATCH:
    if (cli_parse_i64(val, &a->batch) || a->batch < 1 || a->batch > 1000000)
      return cli_usage(c, "--batch needs a number from 1 to 1000000, not '%s'",
                       val);
    break;
  case P_DRY:
    a->dry = 1;
    break;
  }
  return -1;
}

/* The seq of the oldest event left, minus one (the purge's through seq). */
static int64_t through_seq(eaudit_store *s) {
  eaudit_cursor *cur = NULL;
  const eaudit_event *ev;
  int64_t seq = 0;
  if (eaudit_store_tail(s, 0, 1, &cur) == 0 &&
      eaudit_cursor_next(cur, &ev) == EAUDIT_OK)
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
  eaudit_cursor_free(cur);
  return seq > 0 ? seq - 1 : 0;
}

/* Nothing qualifies: say why (the purge removes a prefix of seq). */
static void nothing(eaudit_store *s, const char *when) {
  int64_t last = 0;
  eaudit_store_last_seq(s, &last);
  int64_t oldest = through_seq(s) + 1;
  if (last == 0 || oldest > last)
    printf("nothing to purge: the store holds no events\n");
  else
    printf("nothing to purge: seq %" PRId64 ", the oldest event left, did not "
           "happen before %s\n",
           oldest, when);
}

int cmd_purge(int argc, char **argv) {
  cli c;
  purge_args a = {NULL, NULL, 0, 0, 0};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (!a.older || !a.actor) {
    ret = cli_usage(&c, "purge needs --older-than TIME and --actor ID");
    goto done;
  }
  /* A dry run writes nothing; a purge records itself with the real clock
   * (time words still count from ENTRYFY_AUDIT_NOW). */
  if (a.dry)
    ret = cli_open_read_only(&c, 1, &s);
  else
    ret = cli_open(&c, 0, 0, NULL, &s);
  if (ret != CLI_OK)
    goto done;
  ret = -1;
  eaudit_time before, end;
  if (eaudit_store_parse_time(s, a.older, cli_now(&c), &before, &end)) {
    ret = cli_usage(&c,
                    "--older-than '%s' is not a time (try -90d, -1y, "
                    "last-month, 2026-01-01)",
                    a.older);
    goto done;
  }
  /* The library caps the limit so that the anomaly rules keep the events
   * their windows still read; say so when it does. */
  eaudit_time effective = before;
  int64_t plan_through = 0, plan_n = 0;
  int prc = eaudit_store_purge_plan(s, before, &effective, &plan_through,
                                    &plan_n);
  if (prc) {
    ret = cli_lib_fail(&c, prc, "planning the purge of '%s'", c.db);
    goto done;
  }
  char when[EAUDIT_TIME_STRMAX];
  eaudit_store_format_time(s, effective, EAUDIT_TIME_LOCAL, when, sizeof when);
  if (effective < before)
    fprintf(stderr,
            "entryfy-audit: purge: limit moved back to %s: the anomaly rules "
            "still read newer events\n",
            when);
  if (a.dry) {
    if (plan_n == 0) {
      nothing(s, when);
      ret = CLI_NOTHING;
    } else {
      printf("would purge %" PRId64 " events (through seq %" PRId64
             "), all before %s; nothing was changed\n",
             plan_n, plan_through, when);
      ret = CLI_OK;
    }
    goto done;
  }
  if (a.key && (ret = key_give_store(&c, s, a.key)) >= 0)
    goto done;
  int64_t purged = 0;
  int rc = eaudit_store_purge(s, before, a.actor, (size_t)a.batch, &purged);
  if (rc == EAUDIT_EKEY) {
    cli_lib_fail(&c, rc, "purge refused%s",
                 a.key ? "" : " (give --signing-key FILE)");
    ret = CLI_USAGE;
  } else if (rc == EAUDIT_ETAMPER) {
    cli_lib_fail(&c, rc, "purge stopped after %" PRId64 " events", purged);
    ret = CLI_DAMAGE;
  } else if (rc) {
    ret = cli_lib_fail(&c, rc, "purge failed after %" PRId64 " events",
                       purged);
    if (ret == CLI_USAGE && purged)
      ret = CLI_FAIL;
  } else if (purged == 0) {
    nothing(s, when);
    ret = CLI_NOTHING;
  } else {
    printf("purged %" PRId64 " events (through seq %" PRId64
           "), all before %s; recorded as 'Audit log purged' by user %" PRId64
           "\n",
           purged, through_seq(s), when, a.actor);
    ret = CLI_OK;
    /* Sign the purge's own record too, so no unsigned tail is left. */
    if (a.key && (rc = eaudit_store_checkpoint(s, NULL)))
      ret = cli_lib_fail(&c, rc, "the purge is done; signing its record "
                                 "failed");
  }
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
