/* Shared pieces of the reliability suite (docs/reliability.md): store
 * checks after a fault, figures, and the long-run switch. */
#ifndef EAUDIT_REL_H
#define EAUDIT_REL_H

#include "testutil.h"

#include <stddef.h>
#include <stdint.h>

/* 1 when EAUDIT_LONG_TESTS=1: the long variants (more rounds). */
int rel_long(void);
/* n, or long_n under EAUDIT_LONG_TESTS=1; EAUDIT_REL_ROUNDS overrides both. */
long rel_rounds(long n, long long_n);

/* What a check of a store file found. */
typedef struct rel_check {
  int ok;            /* 1 when every check passed */
  char why[256];     /* the first failure */
  int64_t events;    /* events in the store */
  int64_t last_seq;  /* head seq */
  int verified;      /* 1 when eaudit_store_verify() found nothing */
} rel_check;

/* The public key rel_check_store() passes to eaudit_store_verify() for a
 * store that has checkpoints (NULL: the chain alone). */
extern const uint8_t *rel_trusted_key;

/* Check a store file with no handle of the caller open on it: PRAGMA
 * integrity_check is "ok", the hash chain recomputes link by link (with
 * lib/chain.h, independently of the library's verifier) from the genesis
 * or the retention anchor to the head, seqs have no gaps, and the head
 * names the last event; reads through raw SQLite (the default VFS). Then
 * eaudit_store_verify() on a read-only handle must find nothing (chain,
 * checkpoint signatures with rel_trusted_key, search index, rollups) and
 * count the same events. */
void rel_check_store(const char *path, rel_check *out);

/* Number of the @p n ids (16 bytes each) present in the store file. */
int64_t rel_count_ids(const char *path, const uint8_t *ids, size_t n);
/* How many of the ids, from the first on, are stored without a gap. */
size_t rel_present_prefix(const char *path, const uint8_t *ids, size_t n);
/* How many of the ids, from the first on, are NOT stored (a purged
 * prefix). */
size_t rel_absent_prefix(const char *path, const uint8_t *ids, size_t n);
/* The first column of the first row of @p sql on the store file. */
int64_t rel_sql_int(const char *path, const char *sql);
/* 1 when the id is stored. */
int rel_has_id(const char *path, const uint8_t id[16]);

/* Print a figure line: "RELIABILITY <harness> <key>=<value> ...", which
 * docs/reliability.md quotes; also appended to $EAUDIT_REL_FIGURES when
 * set. */
void rel_figure(const char *harness, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A door_opened event for subject at t with a details object. Safe in
 * forked children (uses no Check assertion). */
eaudit_event *rel_event(int64_t subject, eaudit_time t, int with_details);

/* Copy a file (a store template) to dst, replacing it. */
void rel_copy_file(const char *src, const char *dst);

/* Remove a store and its side files; and the -shm alone (what power loss
 * takes with it). */
void rel_remove_shm(const char *path);

#endif
