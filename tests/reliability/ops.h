/* The public calls the fault loops drive (I/O errors, out of memory), each
 * with a check that its effect is all there or all gone. Adding a call is
 * one entry in the table of ops.c: the harnesses loop over the table.
 *
 * Calls whose work is split into transactions by design (purge in batches,
 * import in batches) may leave a prefix of whole batches after an error:
 * their outcome check accepts that as REL_ABSENT (the call said it failed)
 * and calls anything torn REL_PARTIAL. */
#ifndef EAUDIT_REL_OPS_H
#define EAUDIT_REL_OPS_H

#include "rel.h"

/* Outcome of a write call as seen after reopening. */
enum { REL_ABSENT = 0, REL_PRESENT = 1, REL_PARTIAL = -1 };

typedef struct rel_op {
  const char *name;
  /* 1: a public write call (the I/O-error loop runs it). */
  int writes;
  /* 1: the call opens the store itself (run gets store == NULL). */
  int opens;
  /* Run the call on an open store (or open it); returns its result. */
  int (*run)(eaudit_store *s, const char *path);
  /* For writes: REL_PRESENT, REL_ABSENT or REL_PARTIAL in the store file
   * (no handle open). */
  int (*outcome)(const char *path);
} rel_op;

extern const rel_op rel_ops[];
extern const size_t rel_n_ops;

/* Build the template store the calls start from: 20 events in January
 * 2026 and one five weeks later (zone UTC), user 42 with two names, vendor
 * type 1001, and one signed checkpoint over them. */
void rel_ops_template(const char *path);

/* The template's signing key (a fixed seed, tests only) and its public
 * key; rel_ops_template() also sets rel_trusted_key to the latter. */
extern const uint8_t rel_ops_key[32];
extern uint8_t rel_ops_public[32];

/* Open a store with the deterministic clock and random source the loops
 * use (so operation counts repeat exactly from run to run). */
int rel_ops_open(eaudit_store **out, const char *path);

#endif
