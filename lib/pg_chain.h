/* The central store's chains: walking and verifying an origin's chain from
 * its base, and retention (pg_retention.c). See docs/scale-out.md,
 * "Retention on the central store". */
#ifndef EAUDIT_PG_CHAIN_H
#define EAUDIT_PG_CHAIN_H

#include "internal.h"

/* The PostgreSQL side of eaudit_store_purge() and eaudit_store_purge_plan()
 * on a handle opened on a postgresql:// URI (s->pg set). The arguments are
 * checked by the callers in integrity.c. Without libpq they return
 * EAUDIT_EUNSUPPORTED. */
int eaudit__pg_store_purge(eaudit_store *s, eaudit_time before, int64_t actor,
                           size_t batch_size, int64_t *purged_out);
int eaudit__pg_store_purge_plan(eaudit_store *s, eaudit_time before,
                                eaudit_time *effective_before,
                                int64_t *through_seq, int64_t *events);

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"

/* Walk one origin's events in seq order, recomputing every link, from the
 * link (from_seq, from_hash). With whole set, every row of the origin is
 * read and a row at or before from_seq or after to_seq is damage
 * ("inserted"); otherwise only seq in (from_seq, to_seq] is read. A missing
 * seq or a link that does not match fails with EAUDIT_ETAMPER naming the
 * origin and the seq. Rows whose occurred_at lies in [in_lo, in_hi) are
 * counted in n_in. Works inside the caller's transaction. */
typedef struct eaudit__pg_walk {
  int64_t from_seq;
  uint8_t from_hash[32];
  int64_t to_seq;
  int whole;
  int64_t in_lo, in_hi;
  /* out */
  int64_t last_seq; /* the last row checked (from_seq when none) */
  uint8_t last_hash[32];
  int64_t n, n_in;
  int damage;      /* EAUDIT_DAMAGE_* when the walk failed on damage */
  int64_t bad_seq; /* and the first bad seq */
} eaudit__pg_walk;
int eaudit__pg_walk_chain(PGconn *c, const uint8_t origin[16],
                          eaudit__pg_walk *w);

/* The base of an origin's chain is where it starts: the genesis link at
 * seq 0, else the origin's newest retention anchor in eaudit.anchors.
 * EAUDIT_ETAMPER naming the origin (hex) otherwise. */
int eaudit__pg_check_base(PGconn *c, const uint8_t site[16], const char *hex,
                          int64_t base_seq, const uint8_t base_hash[32]);

/* Verify one origin's chain, inside the caller's snapshot: its eaudit.sites
 * row, its base (the genesis link at seq 0, else its newest retention
 * anchor in eaudit.anchors, which must match), every row from the base to
 * the head, and the count. ENOTFOUND when the origin has no row. *checked
 * receives the number of events verified. */
int eaudit__pg_verify_origin(PGconn *c, const uint8_t origin[16],
                             int64_t *checked);

/* What a retention run did, or (plan) would do. */
typedef struct eaudit__pg_purge_stats {
  int64_t events;     /* events removed: in dropped partitions and in batches */
  int64_t dropped;    /* of which with their partition */
  int64_t batches;    /* batch-delete transactions */
  int partitions;     /* partitions dropped (empty ones included) */
  int origins;        /* origins whose base moved */
  int64_t own_through; /* the own chain's new base (0: not moved) */
  eaudit_time own_before; /* the own chain's cutoff, after the rules' cap */
  int64_t check_us;   /* time spent reading back and checking links */
  int64_t remove_us;  /* time spent deleting, detaching, dropping, committing */
} eaudit__pg_purge_stats;

/* Flags of eaudit__pg_purge(). */
enum {
  EAUDIT__PG_PURGE_NO_DROP = 1, /* batches only (the benchmark's baseline) */
  /* The own chain's head may go too: the caller appends the purge's audit
   * event to it next, which becomes its head. */
  EAUDIT__PG_PURGE_OWN_HEAD = 2,
  /* The own chain's new retention anchors are signed as it goes (the
   * handle holds the signing key: eaudit__pg_store_purge), so its purge
   * is not held at the anchor its newest checkpoint signs. */
  EAUDIT__PG_PURGE_OWN_SIGNED = 4
};

#define EAUDIT__PG_PURGE_BATCH_DEFAULT 5000
#define EAUDIT__PG_PURGE_BATCH_MAX 1000000

/* Remove, for every origin, the prefix of its chain whose events all
 * occurred before @p before, never its head: whole monthly partitions
 * where every event in them belongs to such a prefix, bounded batches of
 * @p batch events (0: the default) otherwise. Each step is one transaction
 * that moves the origin's base and records its anchor (with @p actor), so
 * a run cut at any point leaves a store that verifies. No audit event: the
 * caller appends it. */
int eaudit__pg_purge(PGconn *c, eaudit_time before, int64_t actor,
                     size_t batch, int flags, eaudit__pg_purge_stats *out);

/* What eaudit__pg_purge() with @p flags would remove now, without
 * writing; out->own_through is the own chain's new base. */
int eaudit__pg_purge_plan(PGconn *c, eaudit_time before, int flags,
                          eaudit__pg_purge_stats *out);

#endif /* EAUDIT_HAVE_LIBPQ */

#endif
