/* keygen: a new Ed25519 signing key (eaudit_keypair_generate()) in a key
 * file, and its public key, which verify trusts. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit keygen --out FILE\n"
    "\n"
    "Make a new Ed25519 signing key. FILE gets the secret seed as one line\n"
    "of 64 hex digits (mode 0600; it is never printed), FILE.pub the public\n"
    "key in the same form (mode 0644). The public key is printed: give it\n"
    "to verify --public-key, and keep a copy away from the device. Stores\n"
    "are signed with --signing-key FILE (checkpoint, purge).\n"
    "\n"
    "  --out FILE         the new key file (an existing file is refused)\n"
    "\n"
    "Exit status: 0, 2 usage error (or FILE exists), 3 a file could not be\n"
    "written.\n";

enum { K_OUT = 100 };
static const cli_opt opts[] = {{"out", 0, 1, K_OUT}, {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)id;
  if (!*val)
    return cli_usage(c, "--out needs a path");
  *(const char **)p = val;
  return -1;
}

int cmd_keygen(int argc, char **argv) {
  cli c;
  const char *out = NULL;
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &out);
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (out == NULL) {
    ret = cli_usage(&c, "keygen needs --out FILE");
    goto done;
  }
  char pub_path[4200];
  if (snprintf(pub_path, sizeof pub_path, "%s.pub", out) >=
      (int)sizeof pub_path) {
    ret = cli_usage(&c, "--out path is too long");
    goto done;
  }
  uint8_t seed[EAUDIT_SIGN_SEED_SIZE], pk[EAUDIT_PUBLIC_KEY_SIZE];
  int rc = eaudit_keypair_generate(seed, pk);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "making a key failed");
    goto done;
  }
  /* The public file first: if it cannot be written, no secret is left
   * behind. */
  if ((ret = key_write_public(&c, pub_path, pk, 0)) < 0 &&
      (ret = key_write_secret(&c, out, seed, 0)) >= 0)
    remove(pub_path);
  explicit_bzero(seed, sizeof seed);
  if (ret >= 0)
    goto done;
  char hex[2 * EAUDIT_PUBLIC_KEY_SIZE + 1];
  key_hex(pk, sizeof pk, hex);
  printf("%s\n", hex);
  fprintf(stderr,
          "entryfy-audit keygen: signing key written to %s (keep it secret), "
          "public key to %s\n",
          out, pub_path);
  ret = CLI_OK;
done:
  cli_free(&c);
  return ret;
}
