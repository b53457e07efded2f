#include "faultvfs.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One undo record: the bytes [off, off+len) held before a write. */
typedef struct undo {
  sqlite3_int64 off;
  int len;
  unsigned char *old;
  int wrote_len; /* bytes the write covered (for the garbage variant) */
} undo;

typedef struct fv_file {
  sqlite3_file base;
  struct fv_file *next, *prev_open;
  int track;                 /* main db, WAL or journal */
  sqlite3_int64 synced_size; /* -1: no unsynced change */
  undo *undos;
  int n_undo, cap_undo;
  sqlite3_file *real; /* follows this struct */
} fv_file;

static sqlite3_vfs fv_vfs;
static sqlite3_vfs *real_vfs;
static sqlite3_io_methods fv_io_v1, fv_io;
static fv_file *open_files;

static long arm_k, ops, faults;
static int arm_persistent, armed;
static long crash_sync = 0, syncs;
static int crash_garbage, crash_exit, tracking;
static uint64_t garbage_state = 0x9E3779B97F4A7C15ull;

void fv_arm(long k, int persistent) {
  arm_k = k;
  arm_persistent = persistent;
  armed = 1;
  ops = 0;
  faults = 0;
}
void fv_disarm(void) { armed = 0; }
long fv_ops(void) { return ops; }
void fv_reset_count(void) { ops = 0; }
long fv_faults(void) { return faults; }
long fv_syncs(void) { return syncs; }

void fv_power_loss_at_sync(long n, int garbage, int exit_code) {
  crash_sync = n;
  crash_garbage = garbage;
  crash_exit = exit_code;
  syncs = 0;
  tracking = 1;
}

/* 1 when this counted operation must fail. */
static int inject(void) {
  ops++;
  if (!armed)
    return 0;
  if (ops == arm_k || (arm_persistent && ops > arm_k)) {
    faults++;
    return 1;
  }
  return 0;
}

static void undo_clear(fv_file *f) {
  for (int i = 0; i < f->n_undo; i++)
    free(f->undos[i].old);
  f->n_undo = 0;
  f->synced_size = -1;
}

static void power_loss(void) {
  for (fv_file *f = open_files; f; f = f->next) {
    if (!f->track || f->synced_size < 0)
      continue;
    if (crash_garbage) {
      for (int i = 0; i < f->n_undo; i++) {
        undo *u = &f->undos[i];
        unsigned char *g = malloc((size_t)u->wrote_len);
        for (int k = 0; k < u->wrote_len; k++) {
          garbage_state ^= garbage_state << 13;
          garbage_state ^= garbage_state >> 7;
          garbage_state ^= garbage_state << 17;
          g[k] = (unsigned char)garbage_state;
        }
        f->real->pMethods->xWrite(f->real, g, u->wrote_len, u->off);
        free(g);
      }
    } else {
      for (int i = f->n_undo - 1; i >= 0; i--) {
        undo *u = &f->undos[i];
        if (u->len > 0)
          f->real->pMethods->xWrite(f->real, u->old, u->len, u->off);
      }
      f->real->pMethods->xTruncate(f->real, f->synced_size);
    }
  }
  _exit(crash_exit);
}

static int fv_close(sqlite3_file *p) {
  fv_file *f = (fv_file *)p;
  int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  if (f->prev_open)
    f->prev_open->next = f->next;
  else if (open_files == f)
    open_files = f->next;
  if (f->next)
    f->next->prev_open = f->prev_open;
  undo_clear(f);
  free(f->undos);
  return rc;
}

static int fv_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_READ;
  return f->real->pMethods->xRead(f->real, buf, n, off);
}

/* Remember what [off, off+n) held, for an undo at power loss. */
static void remember(fv_file *f, sqlite3_int64 off, int n) {
  if (!tracking || !f->track)
    return;
  sqlite3_int64 size = 0;
  f->real->pMethods->xFileSize(f->real, &size);
  if (f->synced_size < 0)
    f->synced_size = size;
  if (f->n_undo == f->cap_undo) {
    f->cap_undo = f->cap_undo ? f->cap_undo * 2 : 16;
    f->undos = realloc(f->undos, (size_t)f->cap_undo * sizeof *f->undos);
  }
  undo *u = &f->undos[f->n_undo++];
  u->off = off;
  u->wrote_len = n;
  u->len = off >= size ? 0 : (int)(off + n <= size ? n : size - off);
  u->old = u->len ? malloc((size_t)u->len) : NULL;
  if (u->len)
    f->real->pMethods->xRead(f->real, u->old, u->len, off);
}

static int fv_write(sqlite3_file *p, const void *buf, int n,
                    sqlite3_int64 off) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_WRITE;
  remember(f, off, n);
  return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int fv_truncate(sqlite3_file *p, sqlite3_int64 size) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_TRUNCATE;
  sqlite3_int64 cur = 0;
  f->real->pMethods->xFileSize(f->real, &cur);
  if (cur > size) /* keep what the truncation removes */
    remember(f, size, (int)(cur - size));
  return f->real->pMethods->xTruncate(f->real, size);
}

static int fv_sync(sqlite3_file *p, int flags) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_FSYNC;
  if (tracking && crash_sync > 0 && ++syncs == crash_sync)
    power_loss();
  int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK)
    undo_clear(f);
  return rc;
}

static int fv_file_size(sqlite3_file *p, sqlite3_int64 *size) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_FSTAT;
  return f->real->pMethods->xFileSize(f->real, size);
}

static int fv_lock(sqlite3_file *p, int l) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xLock(f->real, l);
}
static int fv_unlock(sqlite3_file *p, int l) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xUnlock(f->real, l);
}
static int fv_check_reserved(sqlite3_file *p, int *out) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}
static int fv_file_control(sqlite3_file *p, int op, void *arg) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
static int fv_sector_size(sqlite3_file *p) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xSectorSize(f->real);
}
static int fv_device_chars(sqlite3_file *p) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}
static int fv_shm_map(sqlite3_file *p, int pg, int sz, int extend,
                      void volatile **pp) {
  fv_file *f = (fv_file *)p;
  if (inject())
    return SQLITE_IOERR_SHMMAP;
  return f->real->pMethods->xShmMap(f->real, pg, sz, extend, pp);
}
static int fv_shm_lock(sqlite3_file *p, int off, int n, int flags) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xShmLock(f->real, off, n, flags);
}
static void fv_shm_barrier(sqlite3_file *p) {
  fv_file *f = (fv_file *)p;
  f->real->pMethods->xShmBarrier(f->real);
}
static int fv_shm_unmap(sqlite3_file *p, int del) {
  fv_file *f = (fv_file *)p;
  return f->real->pMethods->xShmUnmap(f->real, del);
}
static int fv_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **pp) {
  /* No memory-mapped reads: every read goes through xRead. */
  (void)p;
  (void)off;
  (void)n;
  *pp = NULL;
  return SQLITE_OK;
}
static int fv_unfetch(sqlite3_file *p, sqlite3_int64 off, void *pg) {
  (void)p;
  (void)off;
  (void)pg;
  return SQLITE_OK;
}

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p,
                   int flags, int *out_flags) {
  (void)vfs;
  fv_file *f = (fv_file *)p;
  memset(f, 0, sizeof *f);
  f->real = (sqlite3_file *)&f[1];
  f->synced_size = -1;
  if (inject())
    return SQLITE_CANTOPEN;
  int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == NULL) {
    f->real->pMethods = NULL;
    return rc;
  }
  f->track = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                       SQLITE_OPEN_MAIN_JOURNAL)) != 0;
  f->base.pMethods = f->real->pMethods->iVersion >= 2 ? &fv_io : &fv_io_v1;
  f->next = open_files;
  if (open_files)
    open_files->prev_open = f;
  open_files = f;
  return SQLITE_OK;
}

static int fv_delete(sqlite3_vfs *v, const char *n, int sync) {
  (void)v;
  return real_vfs->xDelete(real_vfs, n, sync);
}
static int fv_access(sqlite3_vfs *v, const char *n, int flags, int *out) {
  (void)v;
  return real_vfs->xAccess(real_vfs, n, flags, out);
}
static int fv_full_pathname(sqlite3_vfs *v, const char *n, int size,
                            char *out) {
  (void)v;
  return real_vfs->xFullPathname(real_vfs, n, size, out);
}
static void *fv_dlopen(sqlite3_vfs *v, const char *n) {
  (void)v;
  return real_vfs->xDlOpen(real_vfs, n);
}
static void fv_dlerror(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  real_vfs->xDlError(real_vfs, n, out);
}
static void (*fv_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) {
  (void)v;
  return real_vfs->xDlSym(real_vfs, h, s);
}
static void fv_dlclose(sqlite3_vfs *v, void *h) {
  (void)v;
  real_vfs->xDlClose(real_vfs, h);
}
static int fv_randomness(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs->xRandomness(real_vfs, n, out);
}
static int fv_sleep(sqlite3_vfs *v, int us) {
  (void)v;
  return real_vfs->xSleep(real_vfs, us);
}
static int fv_current_time(sqlite3_vfs *v, double *out) {
  (void)v;
  return real_vfs->xCurrentTime(real_vfs, out);
}
static int fv_last_error(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs->xGetLastError(real_vfs, n, out);
}
static int fv_current_time64(sqlite3_vfs *v, sqlite3_int64 *out) {
  (void)v;
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void fv_register(void) {
  if (real_vfs)
    return;
  real_vfs = sqlite3_vfs_find("unix");
  fv_io_v1 = (sqlite3_io_methods){1,
                                  fv_close,
                                  fv_read,
                                  fv_write,
                                  fv_truncate,
                                  fv_sync,
                                  fv_file_size,
                                  fv_lock,
                                  fv_unlock,
                                  fv_check_reserved,
                                  fv_file_control,
                                  fv_sector_size,
                                  fv_device_chars,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL};
  fv_io = fv_io_v1;
  fv_io.iVersion = 3;
  fv_io.xShmMap = fv_shm_map;
  fv_io.xShmLock = fv_shm_lock;
  fv_io.xShmBarrier = fv_shm_barrier;
  fv_io.xShmUnmap = fv_shm_unmap;
  fv_io.xFetch = fv_fetch;
  fv_io.xUnfetch = fv_unfetch;
  fv_vfs = (sqlite3_vfs){2,
                         (int)sizeof(fv_file) + real_vfs->szOsFile,
                         real_vfs->mxPathname,
                         NULL,
                         "faultvfs",
                         NULL,
                         fv_open,
                         fv_delete,
                         fv_access,
                         fv_full_pathname,
                         fv_dlopen,
                         fv_dlerror,
                         fv_dlsym,
                         fv_dlclose,
                         fv_randomness,
                         fv_sleep,
                         fv_current_time,
                         fv_last_error,
                         fv_current_time64,
                         NULL,
                         NULL,
                         NULL};
  sqlite3_vfs_register(&fv_vfs, 1);
}
