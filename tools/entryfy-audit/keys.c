/* Key files of the tamper-evidence commands (keygen, checkpoint, purge,
 * verify, demo).
 *
 * A signing key file holds the 32-byte Ed25519 seed as 64 hexadecimal
 * characters on one line, mode 0600. A public key is 64 hexadecimal
 * characters too: given on the command line, or in a file (FILE.pub as
 * keygen writes it). Secrets are wiped after use and never printed. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

static int hex_digit(int ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Exactly 2*n hex digits, then only white space. 0 on success. */
static int parse_hex(const char *text, size_t len, uint8_t *out, size_t n) {
  size_t i = 0;
  for (; i < 2 * n; i++) {
    if (i >= len)
      return -1;
    int d = hex_digit((unsigned char)text[i]);
    if (d < 0)
      return -1;
    if (i % 2 == 0)
      out[i / 2] = (uint8_t)(d << 4);
    else
      out[i / 2] |= (uint8_t)d;
  }
  for (; i < len; i++)
    if (!strchr(" \t\r\n", text[i]))
      return -1;
  return 0;
}

void key_hex(const uint8_t *key, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[key[i] >> 4];
    out[2 * i + 1] = digits[key[i] & 15];
  }
  out[2 * n] = 0;
}

/* Read at most @p cap bytes of a small file. Returns -1 or an exit code. */
static int read_small(cli *c, const char *flag, const char *path, char *buf,
                      size_t cap, size_t *len, int *too_open) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cli_fail(c, CLI_FAIL, "cannot read %s '%s': %s", flag, path,
                    strerror(errno));
  struct stat st;
  if (fstat(fd, &st) == 0 && too_open)
    *too_open = (st.st_mode & 077) != 0;
  ssize_t n = read(fd, buf, cap);
  int err = errno;
  close(fd);
  if (n < 0)
    return cli_fail(c, CLI_FAIL, "cannot read %s '%s': %s", flag, path,
                    strerror(err));
  *len = (size_t)n;
  return -1;
}

int key_read_secret(cli *c, const char *path, uint8_t seed[32]) {
  char buf[256];
  size_t len = 0;
  int too_open = 0;
  int ret = read_small(c, "--signing-key", path, buf, sizeof buf, &len,
                       &too_open);
  if (ret >= 0)
    return ret;
  int bad = parse_hex(buf, len, seed, 32);
  explicit_bzero(buf, sizeof buf);
  if (bad) {
    explicit_bzero(seed, 32);
    return cli_usage(c,
                     "'%s' is not a signing key file (one line of 64 hex "
                     "digits, as 'entryfy-audit keygen' writes)",
                     path);
  }
  if (too_open)
    fprintf(stderr,
            "entryfy-audit %s: warning: the signing key '%s' can be read by "
            "others (chmod 600 it)\n",
            c->cmd, path);
  return -1;
}

int key_read_public(cli *c, const char *arg, uint8_t pk[32]) {
  if (parse_hex(arg, strlen(arg), pk, 32) == 0)
    return -1;
  char buf[256];
  size_t len = 0;
  int fd = open(arg, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cli_usage(c,
                     "--public-key '%s' is neither 64 hex digits nor a file "
                     "(%s)",
                     arg, strerror(errno));
  close(fd);
  int ret = read_small(c, "--public-key", arg, buf, sizeof buf, &len, NULL);
  if (ret >= 0)
    return ret;
  if (parse_hex(buf, len, pk, 32))
    return cli_usage(c,
                     "--public-key '%s' is neither 64 hex digits nor a file "
                     "holding them",
                     arg);
  return -1;
}

/* Write @p text to a new file (or replace one when @p replace) with @p mode. */
static int write_file(cli *c, const char *path, const char *text, int mode,
                      int replace) {
  int fd = open(path,
                O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL),
                mode);
  if (fd < 0 && errno == EEXIST)
    return cli_fail(c, CLI_USAGE, "'%s' already exists; not overwritten",
                    path);
  if (fd < 0)
    return cli_fail(c, CLI_FAIL, "cannot write '%s': %s", path,
                    strerror(errno));
  size_t n = strlen(text);
  int bad = fchmod(fd, (mode_t)mode) != 0 ||
            write(fd, text, n) != (ssize_t)n || fsync(fd) != 0;
  int err = errno;
  bad |= close(fd) != 0;
  if (bad) {
    unlink(path);
    return cli_fail(c, CLI_FAIL, "writing '%s' failed: %s", path,
                    strerror(err));
  }
  return -1;
}

int key_write_secret(cli *c, const char *path, const uint8_t seed[32],
                     int replace) {
  char line[66];
  key_hex(seed, 32, line);
  line[64] = '\n';
  line[65] = 0;
  int ret = write_file(c, path, line, 0600, replace);
  explicit_bzero(line, sizeof line);
  return ret;
}

int key_write_public(cli *c, const char *path, const uint8_t pk[32],
                     int replace) {
  char line[66];
  key_hex(pk, 32, line);
  line[64] = '\n';
  line[65] = 0;
  return write_file(c, path, line, 0644, replace);
}

int key_give_store(cli *c, eaudit_store *s, const char *path) {
  uint8_t seed[32];
  int ret = key_read_secret(c, path, seed);
  if (ret >= 0)
    return ret;
  int rc = eaudit_store_set_signing_key(s, seed, sizeof seed);
  explicit_bzero(seed, sizeof seed);
  if (rc == EAUDIT_EKEY) {
    cli_lib_fail(c, rc, "--signing-key '%s'", path);
    return CLI_USAGE;
  }
  if (rc)
    return cli_lib_fail(c, rc, "--signing-key '%s'", path);
  return -1;
}

/* The newest record of a checkpoint file (one or more concatenated
 * records). -1 or an exit code. */
int checkpoint_file_newest(cli *c, const char *path,
                           uint8_t rec[EAUDIT_CHECKPOINT_SIZE],
                           int64_t *count) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return cli_fail(c, CLI_FAIL, "cannot read the checkpoint file '%s': %s",
                    path, strerror(errno));
  struct stat st;
  int ret = -1;
  if (fstat(fileno(f), &st) != 0)
    ret = cli_fail(c, CLI_FAIL, "cannot read the checkpoint file '%s': %s",
                   path, strerror(errno));
  else if (st.st_size == 0 || st.st_size % EAUDIT_CHECKPOINT_SIZE != 0)
    ret = cli_usage(c,
                    "'%s' is not a checkpoint file (%d-byte records, as "
                    "'checkpoint --export' writes)",
                    path, EAUDIT_CHECKPOINT_SIZE);
  else if (fseeko(f, st.st_size - EAUDIT_CHECKPOINT_SIZE, SEEK_SET) != 0 ||
           fread(rec, 1, EAUDIT_CHECKPOINT_SIZE, f) != EAUDIT_CHECKPOINT_SIZE)
    ret = cli_fail(c, CLI_FAIL, "cannot read the checkpoint file '%s'", path);
  else if (eaudit_checkpoint_info(rec, EAUDIT_CHECKPOINT_SIZE, NULL, NULL,
                                  NULL) != 0)
    ret = cli_usage(c, "'%s' does not end with a checkpoint record", path);
  else if (count)
    *count = (int64_t)(st.st_size / EAUDIT_CHECKPOINT_SIZE);
  fclose(f);
  return ret;
}
