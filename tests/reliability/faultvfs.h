/* An SQLite VFS shim for tests only. Registered as the default VFS, it
 * wraps "unix" and can
 *  - fail the k-th file operation (open, read, write, truncate, sync,
 *    file size, shared-memory map), once or from then on (the I/O-error
 *    loop), and
 *  - lose power at the n-th sync: every write not yet synced is undone
 *    (or overwritten with garbage), then the process exits at once (the
 *    lost-unsynced-writes test).
 * The library never knows: it opens stores through the default VFS. */
#ifndef EAUDIT_FAULTVFS_H
#define EAUDIT_FAULTVFS_H

/* Register the shim as the default VFS (idempotent). */
void fv_register(void);

/* Fail the k-th counted file operation from now on (k >= 1); persistent: every
 * later one fails too. fv_disarm() stops failing. */
void fv_arm(long k, int persistent);
void fv_disarm(void);
/* Operations counted since the last fv_arm()/fv_reset_count(). */
long fv_ops(void);
void fv_reset_count(void);
/* Faults injected since the last fv_arm(). */
long fv_faults(void);

/* Power loss at the n-th sync from now (n >= 1): unsynced writes of every
 * open file are undone (garbage = 0) or overwritten with pseudo-random
 * bytes (garbage = 1), then _exit(exit_code). Tracks unsynced writes from
 * this call on. */
void fv_power_loss_at_sync(long n, int garbage, int exit_code);
/* Syncs seen since fv_power_loss_at_sync(). */
long fv_syncs(void);

#endif
