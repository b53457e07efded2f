/* verify: the hash chain, the signed checkpoints and the derived data,
 * through eaudit_store_verify() (include/eaudit/integrity.h,
 * docs/integrity.md). */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit verify [--db PATH] --public-key KEY "
    "[--checkpoint FILE]\n"
    "                            [--require-signed-tail] [--skip-derived]\n"
    "                            [--actor ID] [--format table|json]\n"
    "\n"
    "Check the hash chain, the signed checkpoints and that the search index\n"
    "and rollups agree with the events. Prints 'ok' or the kind of damage\n"
    "(modified, deleted, inserted, reordered, truncated, wrong_key,\n"
    "unsigned, derived), the first bad seq and what was found.\n"
    "\n"
    "  --public-key KEY      the trusted Ed25519 public key: 64 hex digits\n"
    "                        as keygen prints them, or a file holding them\n"
    "                        (never taken from the store)\n"
    "  --checkpoint FILE     checkpoints kept off the device (checkpoint\n"
    "                        --export writes them); the newest in the file\n"
    "                        is checked against the store, which detects\n"
    "                        truncation and a rewritten unsigned tail\n"
    "  --require-signed-tail events after the newest checkpoint are damage\n"
    "                        (unsigned) instead of a note\n"
    "  --skip-derived        skip the rollup and search-index checks\n"
    "  --actor ID            on damage, append a 'verification failed'\n"
    "                        event naming ID; without it the store is\n"
    "                        opened read-only and nothing is written\n"
    "  -f, --format FMT      table (default) or json\n"
    "\n"
    "Exit status: 0 the store verifies, 4 damage found, 2 usage error (or a\n"
    "malformed key or checkpoint file), 3 the store or a file could not be\n"
    "used.\n";

enum { V_KEY = 100, V_CHECKPOINT, V_SIGNED_TAIL, V_SKIP_DERIVED, V_ACTOR };
static const cli_opt opts[] = {{"public-key", 0, 1, V_KEY},
                               {"checkpoint", 0, 1, V_CHECKPOINT},
                               {"require-signed-tail", 0, 0, V_SIGNED_TAIL},
                               {"skip-derived", 0, 0, V_SKIP_DERIVED},
                               {"actor", 0, 1, V_ACTOR},
                               {NULL, 0, 0, 0}};

typedef struct {
  const char *key, *checkpoint;
  unsigned flags;
  int64_t actor;
} verify_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  verify_args *a = p;
  switch (id) {
  case V_KEY:
    a->key = val;
    break;
  case V_CHECKPOINT:
    a->checkpoint = val;
    break;
  case V_SIGNED_TAIL:
    a->flags |= EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL;
    break;
  case V_SKIP_DERIVED:
    a->flags |= EAUDIT_VERIFY_SKIP_DERIVED;
    break;
  case V_ACTOR:
    if (cli_parse_i64(val, &a->actor) || a->actor <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    break;
  }
  return -1;
}

/* Was the "public key" in fact the seed of the newest checkpoint's signer
 * (record bytes 171-202, docs/integrity.md)? */
static int is_signing_key(eaudit_store *s, const uint8_t key[32]) {
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE], pk[EAUDIT_PUBLIC_KEY_SIZE];
  size_t len = 0;
  return eaudit_store_checkpoint_get(s, 0, rec, sizeof rec, &len) == 0 &&
         eaudit_signing_public_key(key, 32, pk) == 0 &&
         memcmp(rec + 171, pk, sizeof pk) == 0;
}

static void print_table(const eaudit_verify_result *r, int64_t last_seq,
                        int recorded) {
  int damage = eaudit_verify_result_damage(r);
  int64_t bad = eaudit_verify_result_first_bad_seq(r);
  int64_t through = eaudit_verify_result_signed_through(r);
  if (damage == EAUDIT_DAMAGE_NONE)
    printf("ok: %s\n", eaudit_verify_result_message(r));
  else if (bad > 0)
    printf("DAMAGE: %s at seq %" PRId64 ": %s\n", eaudit_damage_name(damage),
           bad, eaudit_verify_result_message(r));
  else
    printf("DAMAGE: %s: %s\n", eaudit_damage_name(damage),
           eaudit_verify_result_message(r));
  printf("events checked:      %" PRId64 "\n"
         "checkpoints checked: %" PRId64 "\n"
         "signed through seq:  %" PRId64 "\n",
         eaudit_verify_result_events(r), eaudit_verify_result_checkpoints(r),
         through);
  if (damage == EAUDIT_DAMAGE_NONE && last_seq > through)
    printf("not signed yet:      seq %" PRId64 "..%" PRId64
           " (sign them with 'entryfy-audit checkpoint')\n",
           through + 1, last_seq);
  if (recorded)
    printf("recorded as a 'verification failed' event\n");
}

static void print_json(const eaudit_verify_result *r, int64_t last_seq,
                       int recorded) {
  int damage = eaudit_verify_result_damage(r);
  printf("{\"ok\":%s,\"damage\":\"%s\",\"first_bad_seq\":%" PRId64
         ",\"message\":",
         damage == EAUDIT_DAMAGE_NONE ? "true" : "false",
         eaudit_damage_name(damage), eaudit_verify_result_first_bad_seq(r));
  out_json_string(stdout, eaudit_verify_result_message(r));
  printf(",\"events\":%" PRId64 ",\"checkpoints\":%" PRId64
         ",\"signed_through\":%" PRId64 ",\"last_seq\":%" PRId64
         ",\"recorded\":%s}\n",
         eaudit_verify_result_events(r), eaudit_verify_result_checkpoints(r),
         eaudit_verify_result_signed_through(r), last_seq,
         recorded ? "true" : "false");
}

int cmd_verify(int argc, char **argv) {
  cli c;
  verify_args a = {NULL, NULL, 0, 0};
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FORMAT, opts, on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_verify_result *r = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  int format = OUT_TABLE;
  if (c.format && out_format_from_name(c.format, (1 << OUT_TABLE) |
                                                     (1 << OUT_JSON),
                                       &format)) {
    ret = cli_usage(&c, "--format must be table or json, not '%s'", c.format);
    goto done;
  }
  if (a.key == NULL) {
    ret = cli_usage(&c, "verify needs --public-key KEY (64 hex digits or a "
                        "file), the key printed by 'entryfy-audit keygen'");
    goto done;
  }
  uint8_t pk[EAUDIT_PUBLIC_KEY_SIZE];
  uint8_t newest[EAUDIT_CHECKPOINT_SIZE];
  if ((ret = key_read_public(&c, a.key, pk)) >= 0)
    goto done;
  if (a.checkpoint && (ret = checkpoint_file_newest(&c, a.checkpoint, newest,
                                                  NULL)) >= 0)
    goto done;
  /* Without --actor nothing is written: a read-only handle. A record is
   * dated by the real clock. */
  if (a.actor)
    ret = cli_open(&c, 0, 0, NULL, &s);
  else
    ret = cli_open_read_only(&c, 1, &s);
  if (ret != CLI_OK)
    goto done;
  int64_t last_seq = 0;
  eaudit_store_last_seq(s, &last_seq);
  unsigned flags = a.flags | (a.actor ? 0 : EAUDIT_VERIFY_NO_RECORD);
  int rc = eaudit_store_verify(s, a.actor, pk,
                               a.checkpoint ? newest : NULL,
                               a.checkpoint ? sizeof newest : 0, flags, &r);
  if (rc == EAUDIT_EFORMAT && a.checkpoint) {
    cli_lib_fail(&c, rc, "--checkpoint '%s'", a.checkpoint);
    ret = CLI_USAGE;
    goto done;
  }
  if (r == NULL) {
    ret = cli_lib_fail(&c, rc, "verifying '%s' failed", c.db);
    if (ret == CLI_USAGE)
      ret = CLI_FAIL;
    goto done;
  }
  int recorded = a.actor && !eaudit_verify_result_ok(r);
  if (format == OUT_JSON)
    print_json(r, last_seq, recorded);
  else
    print_table(r, last_seq, recorded);
  if (eaudit_verify_result_damage(r) == EAUDIT_DAMAGE_WRONG_KEY &&
      is_signing_key(s, pk))
    fprintf(stderr, "entryfy-audit verify: --public-key was given the "
                    "signing key; give the public key that 'entryfy-audit "
                    "keygen' printed (or FILE.pub), and keep the signing key "
                    "secret\n");
  ret = eaudit_verify_result_ok(r) ? CLI_OK : CLI_DAMAGE;
  if (fflush(stdout) != 0)
    ret = cli_fail(&c, CLI_FAIL, "writing standard output failed");
done:
  eaudit_verify_result_free(r);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
