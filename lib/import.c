/* Import of JSON Lines (DESIGN §7, docs/formats.md): good lines appended
 * in batches through the ordinary append path, stored ids skipped, bad
 * lines listed with their number and reason. Memory is bounded by the
 * batch and the longest line, plus the list of bad lines. */
#include "pg_store.h"
#include "report_internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest line accepted: the largest details object and room around it. */
#define LINE_MAX_BYTES (EAUDIT_DETAILS_MAX_LIMIT + 65536)
#define READ_CHUNK 65536

enum { SRC_FILE = 1, SRC_FD, SRC_BUFFER };

struct eaudit_source {
  int kind;
  FILE *fp;
  int fd;
  const char *mem;
  size_t mem_len, mem_pos;
  char *chunk; /* READ_CHUNK bytes for FILE and fd sources */
  size_t chunk_len, chunk_pos;
  int eof;
  uint64_t consumed;
};

typedef struct bad_line {
  uint64_t line;
  int code;
  char *reason;
} bad_line;

struct eaudit_import_result {
  uint64_t lines, appended, skipped, rejected, unknown;
  bad_line *bad;
  size_t n_bad, cap_bad;
};

static int source_new(eaudit_source **out, int kind) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit_source *src = eaudit__calloc(1, sizeof *src);
  if (src == NULL)
    return eaudit__enomem();
  src->kind = kind;
  src->fd = -1;
  if (kind != SRC_BUFFER && (src->chunk = eaudit__malloc(READ_CHUNK)) == NULL) {
    eaudit__free(src);
    return eaudit__enomem();
  }
  eaudit__object_born();
  *out = src;
  return EAUDIT_OK;
}

int eaudit_source_from_file(eaudit_source **out, FILE *fp) {
  if (fp == NULL)
    return eaudit__einval("file must not be NULL");
  int rc = source_new(out, SRC_FILE);
  if (rc == 0)
    (*out)->fp = fp;
  return rc;
}

int eaudit_source_from_fd(eaudit_source **out, int fd) {
  if (fd < 0)
    return eaudit__einval("file descriptor %d is not valid", fd);
  int rc = source_new(out, SRC_FD);
  if (rc == 0)
    (*out)->fd = fd;
  return rc;
}

int eaudit_source_from_buffer(eaudit_source **out, const void *buf,
                              size_t len) {
  if (buf == NULL && len > 0)
    return eaudit__einval("buffer must not be NULL");
  int rc = source_new(out, SRC_BUFFER);
  if (rc == 0) {
    (*out)->mem = buf;
    (*out)->mem_len = len;
  }
  return rc;
}

void eaudit_source_free(eaudit_source *src) {
  if (src == NULL)
    return;
  eaudit__free(src->chunk);
  eaudit__free(src);
  eaudit__object_died();
}

/* Bytes left to read when the source can tell (0: unknown). */
static uint64_t source_size(eaudit_source *src) {
  if (src->kind == SRC_BUFFER)
    return src->mem_len;
  struct stat st;
  int fd = src->kind == SRC_FD ? src->fd : fileno(src->fp);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return 0;
  off_t pos = src->kind == SRC_FD ? lseek(fd, 0, SEEK_CUR) : ftello(src->fp);
  if (pos < 0 || pos > st.st_size)
    return 0;
  return (uint64_t)(st.st_size - pos);
}

static int fill(eaudit_source *src) {
  src->chunk_pos = src->chunk_len = 0;
  if (src->kind == SRC_FILE) {
    size_t n = fread(src->chunk, 1, READ_CHUNK, src->fp);
    if (n == 0) {
      if (ferror(src->fp))
        return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                             "reading the import failed: %s",
                             strerror(errno));
      src->eof = 1;
    }
    src->chunk_len = n;
    return EAUDIT_OK;
  }
  for (;;) {
    ssize_t n = read(src->fd, src->chunk, READ_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                           "reading the import failed: %s", strerror(errno));
    if (n == 0)
      src->eof = 1;
    src->chunk_len = (size_t)n;
    return EAUDIT_OK;
  }
}

/* The next line without its end (LF or CRLF), in *line (borrowed until
 * the next call). *too_long is set for a line over LINE_MAX_BYTES, which
 * is consumed but not returned. EAUDIT_DONE at the end. */
static int next_line(eaudit_source *src, eaudit__buf *acc, const char **line,
                     size_t *len, int *too_long) {
  *too_long = 0;
  acc->len = 0;
  if (src->kind == SRC_BUFFER) {
    if (src->mem_pos >= src->mem_len)
      return EAUDIT_DONE;
    const char *p = src->mem + src->mem_pos;
    size_t left = src->mem_len - src->mem_pos;
    const char *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) : left;
    src->mem_pos += n + (nl != NULL);
    src->consumed = src->mem_pos;
    if (n > 0 && p[n - 1] == '\r')
      n--;
    *too_long = n > LINE_MAX_BYTES;
    *line = p;
    *len = n;
    return EAUDIT_OK;
  }
  int got = 0;
  for (;;) {
    if (src->chunk_pos >= src->chunk_len) {
      if (src->eof)
        break;
      int rc = fill(src);
      if (rc)
        return rc;
      if (src->chunk_len == 0)
        break;
    }
    got = 1;
    const char *p = src->chunk + src->chunk_pos;
    size_t left = src->chunk_len - src->chunk_pos;
    const char *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) : left;
    src->chunk_pos += n + (nl != NULL);
    src->consumed += n + (nl != NULL);
    if (!*too_long) {
      if (acc->len + n > LINE_MAX_BYTES) {
        *too_long = 1;
        acc->len = 0;
      } else if (eaudit__buf_put(acc, p, n)) {
        return eaudit__enomem();
      }
    }
    if (nl)
      break;
  }
  if (!got)
    return EAUDIT_DONE;
  if (acc->len > 0 && acc->data[acc->len - 1] == '\r')
    acc->len--;
  *line = acc->data ? acc->data : "";
  *len = acc->len;
  return EAUDIT_OK;
}

static int add_bad(eaudit_import_result *r, uint64_t line, int code,
                   const char *reason) {
  if (r->n_bad == r->cap_bad) {
    size_t cap = r->cap_bad ? r->cap_bad * 2 : 16;
    bad_line *b = eaudit__realloc(r->bad, cap * sizeof *b);
    if (b == NULL)
      return eaudit__enomem();
    r->bad = b;
    r->cap_bad = cap;
  }
  char *c = eaudit__strdup(reason ? reason : "");
  if (c == NULL)
    return eaudit__enomem();
  r->bad[r->n_bad++] = (bad_line){line, code, c};
  r->rejected++;
  return EAUDIT_OK;
}

static int id_stored(eaudit_store *s, sqlite3_stmt *st, const uint8_t id[16],
                     int *out) {
  sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW;
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE
             ? EAUDIT_OK
             : eaudit__sqlite_error(s, rc, "looking up an event id");
}

/* Append the pending events not yet stored, in one transaction. */
static int flush_batch(eaudit_store *s, sqlite3_stmt *exists,
                       eaudit_event **evs, size_t n, eaudit_event **fresh,
                       eaudit_import_result *r) {
  if (n == 0)
    return EAUDIT_OK;
  if (s->pg) { /* pg_store.c skips stored ids inside its transaction */
    size_t n_fresh = 0;
    int prc = eaudit__pg_store_append_new(s, evs, n, fresh, &n_fresh);
    if (prc == 0) {
      r->appended += n_fresh;
      r->skipped += n - n_fresh;
    }
    return prc;
  }
  int rc = eaudit__txn_begin_write(s);
  if (rc)
    return rc;
  size_t n_fresh = 0, skipped = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    int stored = 0;
    /* Earlier lines of this batch are already inserted, so a repeated id
     * within the file is caught here too. */
    if ((rc = id_stored(s, exists, evs[i]->id, &stored)))
      break;
    if (stored) {
      skipped++;
      continue;
    }
    size_t failed;
    if ((rc = eaudit__append_locked(s, &evs[i], 1, &failed)))
      break;
    fresh[n_fresh++] = evs[i];
  }
  rc = eaudit__txn_end_write(s, rc, fresh, n_fresh);
  if (rc == 0) {
    r->appended += n_fresh;
    r->skipped += skipped;
  }
  return rc;
}

static int is_blank(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
      return 0;
  return 1;
}

int eaudit_store_import(eaudit_store *s, eaudit_source *src,
                        const eaudit_report_options *opts,
                        eaudit_import_result **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (src == NULL || out == NULL)
    return eaudit__einval("source and out must not be NULL");
  *out = NULL;
  if (s->read_only)
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
  eaudit_report_options *defaults = NULL;
  int rc = 0;
  if (opts == NULL) {
    if ((rc = eaudit_report_options_new(&defaults)))
      return rc;
    opts = defaults;
  }
  int64_t batch = opts->batch;
  eaudit_progress_fn progress = opts->progress;
  void *progress_payload = opts->progress_payload;
  eaudit_import_result *r = eaudit__calloc(1, sizeof *r);
  eaudit_event **evs = eaudit__calloc((size_t)batch, sizeof *evs);
  eaudit_event **fresh = eaudit__calloc((size_t)batch, sizeof *fresh);
  eaudit__buf acc = {0};
  sqlite3_stmt *exists = NULL;
  /* Born as soon as it exists: it is handed out (and freed by the caller)
   * whatever happens below. */
  if (r)
    eaudit__object_born();
  if (r == NULL || evs == NULL || fresh == NULL) {
    rc = eaudit__enomem();
    goto done;
  }
  for (int64_t i = 0; i < batch; i++)
    if ((rc = eaudit_event_new(&evs[i])))
      goto done;
  int src_rc = s->pg ? SQLITE_OK
                     : sqlite3_prepare_v2(s->db,
                                          "SELECT 1 FROM events WHERE id = ?1",
                                          -1, &exists, NULL);
  if (src_rc != SQLITE_OK) {
    rc = eaudit__sqlite_error(s, src_rc, "preparing the import");
    goto done;
  }
  uint64_t total = source_size(src), base = src->consumed;
  size_t pending = 0;
  const char *line = NULL;
  size_t len = 0;
  int too_long;
  while ((rc = next_line(src, &acc, &line, &len, &too_long)) == EAUDIT_OK) {
    r->lines++;
    if (too_long) {
      char msg[96];
      snprintf(msg, sizeof msg, "line is longer than %d bytes",
               LINE_MAX_BYTES);
      if ((rc = add_bad(r, r->lines, EAUDIT_ETOOBIG, msg)))
        break;
      continue;
    }
    if (is_blank(line, len))
      continue;
    eaudit_event *ev = evs[pending];
    size_t unknown = 0;
    int lrc = eaudit__event_from_json(s, line, len, ev, &unknown);
    if (lrc == 0 && !ev->has_id && EAUDIT__HAS(ev, EAUDIT_FIELD_TYPE) &&
        EAUDIT__HAS(ev, EAUDIT_FIELD_OCCURRED_AT)) {
      lrc = eaudit_event_derive_id(ev, ev->id);
      ev->has_id = lrc == 0;
    }
    if (lrc == 0)
      lrc = eaudit__validate_events(s, &ev, 1, NULL);
    if (lrc == EAUDIT_ENOMEM) {
      rc = lrc;
      break;
    }
    if (lrc) {
      if ((rc = add_bad(r, r->lines, lrc, eaudit_error_last()->message)))
        break;
      continue;
    }
    r->unknown += unknown;
    if (++pending == (size_t)batch) {
      rc = flush_batch(s, exists, evs, pending, fresh, r);
      pending = 0;
      if (rc)
        break;
      if (progress &&
          progress(src->consumed - base, total, progress_payload) != 0) {
        rc = eaudit__error(EAUDIT_ECANCELLED, EAUDIT_ECLASS_CALLBACK, 0,
                           "cancelled by the progress callback");
        break;
      }
    }
  }
  if (rc == EAUDIT_DONE)
    rc = 0;
  if (rc == 0)
    rc = flush_batch(s, exists, evs, pending, fresh, r);
  if (rc == 0 && progress &&
      progress(src->consumed - base, total, progress_payload) != 0)
    rc = eaudit__error(EAUDIT_ECANCELLED, EAUDIT_ECLASS_CALLBACK, 0,
                       "cancelled by the progress callback");
done:
  sqlite3_finalize(exists);
  if (evs)
    for (int64_t i = 0; i < batch; i++)
      eaudit_event_free(evs[i]);
  eaudit__free(evs);
  eaudit__free(fresh);
  eaudit__buf_free(&acc);
  eaudit_report_options_free(defaults);
  if (r)
    *out = r;
  return rc;
}

int eaudit_import_result_counts(const eaudit_import_result *r, uint64_t *lines,
                                uint64_t *appended, uint64_t *skipped,
                                uint64_t *rejected, uint64_t *unknown_fields) {
  if (r == NULL)
    return eaudit__einval("result must not be NULL");
  if (lines)
    *lines = r->lines;
  if (appended)
    *appended = r->appended;
  if (skipped)
    *skipped = r->skipped;
  if (rejected)
    *rejected = r->rejected;
  if (unknown_fields)
    *unknown_fields = r->unknown;
  return EAUDIT_OK;
}

size_t eaudit_import_result_bad_count(const eaudit_import_result *r) {
  return r ? r->n_bad : 0;
}

int eaudit_import_result_bad_at(const eaudit_import_result *r, size_t index,
                                uint64_t *line, int *code,
                                const char **reason) {
  if (r == NULL || index >= r->n_bad)
    return eaudit__einval("index out of range");
  if (line)
    *line = r->bad[index].line;
  if (code)
    *code = r->bad[index].code;
  if (reason)
    *reason = r->bad[index].reason;
  return EAUDIT_OK;
}

void eaudit_import_result_free(eaudit_import_result *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_bad; i++)
    eaudit__free(r->bad[i].reason);
  eaudit__free(r->bad);
  eaudit__free(r);
  eaudit__object_died();
}
