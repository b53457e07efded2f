/* A progress bar on stderr, only when stderr is a terminal, redrawn at
 * most once per percent so it costs nothing on long runs. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

void progress_start(progress *p, const char *what, int64_t total) {
  p->on = isatty(STDERR_FILENO) && getenv("ENTRYFY_AUDIT_NO_PROGRESS") == NULL;
  p->what = what;
  p->total = total;
  p->done = 0;
  p->last_shown = -1;
  p->last_pct = -1;
}

void progress_update(progress *p, int64_t done) {
  p->done = done;
  if (!p->on)
    return;
  if (p->total > 0) {
    int pct = (int)(done * 100 / p->total);
    if (pct > 100)
      pct = 100;
    if (pct == p->last_pct)
      return;
    p->last_pct = pct;
    int width = cli_term_width(STDERR_FILENO);
    int bar = width > 60 ? 30 : 20;
    int fill = pct * bar / 100;
    fprintf(stderr, "\r%s [", p->what);
    for (int i = 0; i < bar; i++)
      fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%% %" PRId64 "/%" PRId64 "\x1b[K", pct, done,
            p->total);
  } else {
    if (p->last_shown >= 0 && done - p->last_shown < 1000)
      return;
    p->last_shown = done;
    fprintf(stderr, "\r%s %" PRId64 "\x1b[K", p->what, done);
  }
  fflush(stderr);
}

void progress_end(progress *p) {
  if (p->on && (p->last_pct >= 0 || p->last_shown >= 0))
    fputs("\r\x1b[K", stderr);
  p->on = 0;
}
