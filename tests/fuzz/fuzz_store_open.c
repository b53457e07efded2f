/* Arbitrary bytes opened as a store file: an error (ECORRUPT, ESCHEMA, ...)
 * or a store that can be read, never a crash. Opened with creation off. */
#include "fuzz.h"
#include "eaudit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[256];
  if (path[0] == '\0') {
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/eaudit-fuzz-open-%ld.db",
             dir ? dir : "/tmp", (long)getpid());
  }
  char side[300];
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  close(fd);
  eaudit_options *o = NULL;
  eaudit_options_new(&o);
  eaudit_options_set_int(o, EAUDIT_OPT_CREATE, 0);
  eaudit_store *s = NULL;
  if (eaudit_store_open(&s, path, o) == 0) {
    int64_t n;
    eaudit_store_event_count(s, &n);
    eaudit_cursor *c = NULL;
    if (eaudit_store_tail(s, 0, 50, &c) == 0) {
      const eaudit_event *ev;
      while (eaudit_cursor_next(c, &ev) == 0)
        eaudit_cursor_name(c, EAUDIT_FIELD_SUBJECT);
    }
    eaudit_cursor_free(c);
    eaudit_store_free(s);
  }
  eaudit_options_free(o);
  unlink(path);
  return 0;
}
