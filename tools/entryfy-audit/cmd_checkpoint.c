/* checkpoint: sign the chain head on demand (eaudit_store_checkpoint())
 * and export the stored checkpoints (eaudit_store_export_checkpoints()) so
 * that copies are kept off the device. */
#include "cli.h"

#include <inttypes.h>

static const char usage[] =
    "usage: entryfy-audit checkpoint [--db PATH] [--signing-key FILE] "
    "[--export FILE]\n"
    "\n"
    "With --signing-key, write a signed checkpoint of the chain head now:\n"
    "every event so far is then covered by a signature (run it from a timer\n"
    "so that the unsigned tail stays short). With --export, write every\n"
    "stored checkpoint, oldest first, to a new file, to be kept away from\n"
    "the device: verify --checkpoint FILE then detects truncation and a\n"
    "rewritten tail. With both, the new checkpoint is exported too.\n"
    "\n"
    "  --signing-key FILE  the signing key (keygen writes it)\n"
    "  --export FILE       a new file of concatenated 299-byte records,\n"
    "                      mode 0600 (an existing file is refused)\n"
    "\n"
    "Exit status: 0, 1 nothing to export (no checkpoint yet), 2 usage error\n"
    "(or the key is not the store's signing key, or FILE exists), 3 store\n"
    "or file error.\n";

enum { C_KEY = 100, C_EXPORT };
static const cli_opt opts[] = {{"signing-key", 0, 1, C_KEY},
                               {"export", 0, 1, C_EXPORT},
                               {NULL, 0, 0, 0}};

typedef struct {
  const char *key, *export;
} checkpoint_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  checkpoint_args *a = p;
  if (!*val)
    return cli_usage(c, "--%s needs a path",
                     id == C_KEY ? "signing-key" : "export");
  if (id == C_KEY)
    a->key = val;
  else
    a->export = val;
  return -1;
}

/* The newest checkpoint's cseq and last seq; ENOTFOUND when none. */
static int newest_info(eaudit_store *s, int64_t *cseq, int64_t *last) {
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE];
  size_t len = 0;
  int rc = eaudit_store_checkpoint_get(s, 0, rec, sizeof rec, &len);
  if (rc == 0)
    rc = eaudit_checkpoint_info(rec, len, cseq, last, NULL);
  return rc;
}

int cmd_checkpoint(int argc, char **argv) {
  cli c;
  checkpoint_args a = {NULL, NULL};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (!a.key && !a.export) {
    ret = cli_usage(&c, "checkpoint needs --signing-key FILE, --export FILE "
                        "or both");
    goto done;
  }
  /* A checkpoint is dated by the real clock; an export writes nothing. */
  if (a.key)
    ret = cli_open(&c, 0, 0, NULL, &s);
  else
    ret = cli_open_read_only(&c, 0, &s);
  if (ret != CLI_OK)
    goto done;
  ret = -1;
  int rc;
  if (a.key) {
    if ((ret = key_give_store(&c, s, a.key)) >= 0)
      goto done;
    int64_t cseq = 0, last = 0;
    rc = eaudit_store_checkpoint(s, &cseq);
    if (rc == EAUDIT_EKEY) {
      cli_lib_fail(&c, rc, "--signing-key '%s'", a.key);
      ret = CLI_USAGE;
      goto done;
    }
    if (rc == 0)
      rc = newest_info(s, &cseq, &last);
    if (rc) {
      ret = cli_lib_fail(&c, rc, "writing a checkpoint failed");
      goto done;
    }
    printf("checkpoint %" PRId64 " signs the events through seq %" PRId64
           "\n",
           cseq, last);
  }
  if (a.export) {
    int64_t cseq = 0, last = 0;
    rc = newest_info(s, &cseq, &last);
    if (rc == EAUDIT_ENOTFOUND) {
      ret = cli_fail(&c, CLI_NOTHING,
                     "the store has no checkpoint yet (make one with "
                     "--signing-key FILE); '%s' was not written",
                     a.export);
      goto done;
    }
    if (rc == 0)
      rc = eaudit_store_export_checkpoints(s, a.export);
    if (rc == EAUDIT_EEXISTS) {
      ret = cli_fail(&c, CLI_USAGE, "'%s' already exists; not overwritten",
                     a.export);
      goto done;
    }
    if (rc) {
      ret = cli_lib_fail(&c, rc, "exporting the checkpoints failed");
      goto done;
    }
    /* Name the file's own newest record: another writer may have added a
     * checkpoint since. */
    uint8_t rec[EAUDIT_CHECKPOINT_SIZE];
    int64_t n = 0;
    if ((ret = checkpoint_file_newest(&c, a.export, rec, &n)) >= 0)
      goto done;
    eaudit_checkpoint_info(rec, sizeof rec, &cseq, &last, NULL);
    printf("exported %" PRId64 " checkpoints to %s (the newest, checkpoint "
           "%" PRId64 ", signs the events through seq %" PRId64 ")\n",
           n, a.export, cseq, last);
  }
  ret = CLI_OK;
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
