/* The rules engine's internal interface: the parsed rule model
 * (rules_parse.c), per-key state and evaluation (rules_eval.c), findings
 * (findings.c) and the store-facing calls (rules.c). */
#ifndef EAUDIT_RULES_INTERNAL_H
#define EAUDIT_RULES_INTERNAL_H

#include "rules_sql.h"
#include "store_internal.h"

#define EAUDIT__RULE_ID_MAX 64
#define EAUDIT__RULE_MAX_RULES 256
#define EAUDIT__RULE_MAX_CONDS 8
#define EAUDIT__RULE_MAX_STEPS 8
#define EAUDIT__RULE_MAX_AREAS 256
#define EAUDIT__RULE_MAX_DOORS 4096
/* Items one key keeps per condition; older ones are dropped first. */
#define EAUDIT__RULE_MAX_ITEMS 1024
/* Partial sequences one key keeps; older ones are dropped first. */
#define EAUDIT__RULE_MAX_PARTIALS 64

typedef enum eaudit__rule_kind {
  EAUDIT__KIND_THRESHOLD = 1,
  EAUDIT__KIND_SEQUENCE = 2,
  EAUDIT__KIND_PRESENCE = 3,
  EAUDIT__KIND_OFF_HOURS = 4
} eaudit__rule_kind;

/* A "distinct" value that counts local days (store time zone). */
#define EAUDIT__DISTINCT_DAY 100

typedef struct eaudit__cond {
  int key;       /* eaudit_field: SUBJECT, ACTOR, DOOR, DEVICE, SITE */
  int64_t window; /* microseconds */
  int64_t threshold;
  int distinct; /* 0: count events; an eaudit_field; or EAUDIT__DISTINCT_DAY */
} eaudit__cond;

typedef struct eaudit__step {
  int type;
  int same; /* eaudit_field that must equal across the steps naming it, or 0 */
} eaudit__step;

typedef struct eaudit__area {
  int64_t id;
  int checkin_to_exit;
} eaudit__area;

/* A door's role in the configured areas (sorted by door for lookup). */
typedef struct eaudit__door_role {
  int64_t door;
  int64_t enters; /* area id, or 0 */
  int64_t exits;  /* area id, or 0 */
} eaudit__door_role;

typedef struct eaudit__rule {
  char id[EAUDIT__RULE_ID_MAX + 1];
  int kind;
  int severity;
  int enabled;
  int builtin;
  int *types; /* watched types */
  size_t n_types;
  int *reasons; /* NULL: any reason */
  size_t n_reasons;
  int key;        /* the episode key field (threshold: per condition) */
  int64_t window; /* episode quiet window for kinds without conditions */
  eaudit__cond conds[EAUDIT__RULE_MAX_CONDS];
  size_t n_conds;
  eaudit__step steps[EAUDIT__RULE_MAX_STEPS];
  size_t n_steps;
  eaudit__area *areas;
  size_t n_areas;
  eaudit__door_role *doors;
  size_t n_doors;
  int64_t min_history;
  int64_t rare_percent;
  char *canonical; /* the rule written out with every default; its identity */
} eaudit__rule;

/* The type -> rules table entry. */
typedef struct eaudit__type_rules {
  int type;
  uint16_t *rules;
  size_t n;
} eaudit__type_rules;

typedef struct eaudit__ruleset {
  eaudit__rule *rules;
  size_t n;
  int builtins;
  eaudit__type_rules *by_type; /* sorted by type */
  size_t n_by_type;
  int any_enabled;
} eaudit__ruleset;

/* Parse and validate a rule set document. A NULL json gives the built-ins.
 * Errors are EAUDIT_ERULES with "path: reason". */
int eaudit__ruleset_parse(eaudit_store *s, const char *json, size_t len,
                          eaudit__ruleset **out);
void eaudit__ruleset_free(eaudit__ruleset *rs);
/* The whole set written out with defaults (allocated). */
int eaudit__ruleset_write(eaudit_store *s, const eaudit__ruleset *rs,
                          char **out);
/* Rules watching type t (NULL when none). */
const eaudit__type_rules *eaudit__ruleset_for_type(const eaudit__ruleset *rs,
                                                   int type);
const eaudit__door_role *eaudit__rule_door(const eaudit__rule *r,
                                           int64_t door);
/* The built-in rule set as a JSON document. */
extern const char eaudit__builtin_rules_json[];

/* The admin's login-hour histogram, kept by device recognition
 * (lib/devices.c): counts of all observed admin logins per local hour of
 * the store's time zone. Returns 0, EAUDIT_ENOTFOUND when the user has no
 * history, or another error. */
int eaudit__login_hours(eaudit_store *s, int64_t user, int64_t counts[24]);
/* Tests replace the histogram source with their own function. */
typedef int (*eaudit__login_hours_fn)(eaudit_store *s, int64_t user,
                                      int64_t counts[24], void *payload);
void eaudit__rules_set_login_hours_fn(eaudit_store *s,
                                      eaudit__login_hours_fn fn,
                                      void *payload);

/* --- findings (findings.c) --- */

struct eaudit_finding {
  int64_t rowid;
  uint8_t id[16];
  char rule[EAUDIT__RULE_ID_MAX + 1];
  int severity;
  char key[EAUDIT_FINDING_KEY_MAX];
  int has_subject;
  int64_t subject;
  eaudit_time first_at, last_at, quiet_until;
  int late;
  int state;
  int has_state_by;
  int64_t state_by;
  eaudit_time state_at;
  int64_t *seqs;
  uint8_t (*ids)[16];
  size_t n_events;
};

struct eaudit_finding_query {
  eaudit_time since, until;
  int min_severity;
  char *rule;
  char *key;
  int has_user;
  int64_t user;
  int state; /* -1: any */
  size_t limit;
};

/* Load a finding by rowid (allocated). */
int eaudit__finding_load(eaudit_store *s, int64_t rowid, eaudit_finding **out);
/* Stream the findings a query selects (NULL: all; its limit applies),
 * oldest first (first_at, then id), one at a time so that memory does not
 * grow with their number. Each finding is borrowed for the call and has
 * its event count but not its event ids. A nonzero return of fn stops the
 * walk and is returned. */
typedef int (*eaudit__finding_each_fn)(const eaudit_finding *f, void *payload);
int eaudit__findings_each(eaudit_store *s, const eaudit_finding_query *q,
                          eaudit__finding_each_fn fn, void *payload);
int eaudit__finding_query_matches(const eaudit_finding_query *q,
                                  const eaudit_finding *f);
int eaudit__finding_query_dup(eaudit_finding_query **out,
                              const eaudit_finding_query *q);

/* --- the engine's handle state (rules.c, rules_eval.c) --- */

typedef struct eaudit__rstate eaudit__rstate;

typedef struct eaudit__finding_sub {
  int id;
  eaudit_finding_fn fn;
  void *payload;
  eaudit_finding_query *filter;
} eaudit__finding_sub;

enum {
  EAUDIT__RS_STATE_GET,
  EAUDIT__RS_STATE_PUT,
  EAUDIT__RS_STATE_DEL,
  EAUDIT__RS_REFS_DELETE,
  EAUDIT__RS_FINDING_INSERT,
  EAUDIT__RS_FINDING_EXTEND,
  EAUDIT__RS_REF_INSERT,
  EAUDIT__RS_HOURS_GET,
  EAUDIT__RS_HOURS_PUT,
  EAUDIT__RS_DATA_VERSION,
  EAUDIT__RS_META_GET,
  EAUDIT__RS_FINDING_EXISTS,
  EAUDIT__RS_SINCE_GET,
  EAUDIT__RS_SINCE_PUT,
  EAUDIT__RS_SINCE_DEL,
  /* A key's recent events, newest first, to rebuild a threshold window:
   * one statement per indexed key field. */
  EAUDIT__RS_SCAN_SUBJECT,
  EAUDIT__RS_SCAN_DOOR,
  EAUDIT__RS_SCAN_DEVICE,
  /* A rule's recent events of one type, to preload every key's window at
   * once, and every rule_state row of a rule. */
  EAUDIT__RS_SCAN_TYPE,
  EAUDIT__RS_STATE_RULE,
  /* A rule id's number in rule_state (rule_ids), and giving it one. */
  EAUDIT__RS_RULE_NUM_GET,
  EAUDIT__RS_RULE_NUM_PUT,
  /* Lowering a finding's first_at when an extension reaches earlier. */
  EAUDIT__RS_FINDING_EXTEND_FIRST,
  /* Linking an event whose id the engine holds, and the lowest seq still
   * in events (a purge removes a prefix): below it an event is gone. */
  EAUDIT__RS_REF_INSERT_ID,
  EAUDIT__RS_LIVE_FROM,
  /* The events a catch-up replays (rules_eval.c, catch_up()). */
  EAUDIT__RS_CATCH_UP,
  /* PostgreSQL only (SQLite uses its meta table and PRAGMA data_version):
   * writing rule_meta, and moving its generation, which tells other
   * handles that the rule state changed. */
  EAUDIT__RS_META_PUT,
  EAUDIT__RS_GEN_BUMP,
  /* The newest occurred_at before a seq, for lateness. */
  EAUDIT__RS_NEWEST,
  /* Linking many events whose ids the engine holds at once. */
  EAUDIT__RS_REF_INSERT_MANY,
  EAUDIT__RS_COUNT
};

typedef struct eaudit__rules {
  eaudit__ruleset *rs;
  int64_t version;   /* of rs; -1 before the first load */
  int64_t data_version;
  int txn_ready;     /* revalidated in the current transaction */
  int replay;        /* batch re-evaluation running */
  /* The lowest seq in events, when live_known (read once per transaction;
   * reset by a purge). */
  int live_known;
  int64_t live_from;
  /* The seq of the login whose histogram was stored last. */
  int64_t hours_seq;
  /* Scratch: the ids of a threshold episode's events. */
  uint8_t (*ref_ids)[16];
  size_t cap_ref_ids;
  eaudit__rq st[EAUDIT__RS_COUNT];
  /* Per rule of rs: the first seq it has evaluated since its state was
   * last reset (rule_since), bounding window rebuilds. */
  int64_t *since;
  /* Per rule of rs (n_preload entries): whether the windows of every key
   * of the rule have been preloaded into the cache (rules_eval.c,
   * preload(); 1 done, 0 not yet, -1 given up), from which occurred_at on
   * a key missing from the cache then has an empty window, and the cache
   * misses of the rule so far. Reset when the cache is cleared. */
  struct eaudit__preload {
    int done;
    int misses;
    int64_t from;
  } *preload;
  size_t n_preload;
  /* Per rule of rs (n_preload entries): its number in rule_state
   * (rule_ids); 0 not looked up yet, -1 none yet. Reset when the cache is
   * cleared (a rollback may have taken a new number back). */
  int64_t *num;
  uint64_t clears; /* cache clears so far */
  /* (rule, key field, key value) -> state. */
  eaudit__rstate **slots;
  size_t cap, used;
  /* States changed since the last flush, written at the end of the append
   * (eaudit__rules_end_append). */
  eaudit__rstate **dirty;
  size_t n_dirty, cap_dirty;
  /* Presence and sequence states are not written at every append but at
   * checkpoints (rules_eval.c): every rule_state row of theirs holds the
   * state as of the checkpoint seq `ckpt` (meta rules_checkpoint), or as
   * of its own later seq, and the events from there on rebuild the rest.
   * deferred: the states changed since the last checkpoint and not
   * written since; caught: the cache holds every such state (a catch-up
   * replayed the events since the checkpoint); catching: a catch-up is
   * running; cur_seq: the event being evaluated; ckpt: 0 none yet, -1
   * not read yet; ckpt_due: a catch-up ran, so the append ends with a
   * checkpoint. */
  eaudit__rstate **deferred;
  size_t n_deferred, cap_deferred;
  int caught, catching, ckpt_due;
  int64_t cur_seq, ckpt;
  /* Findings opened in the current transaction (rowids), delivered after
   * commit. */
  int64_t *pending;
  size_t n_pending, cap_pending;
  eaudit__finding_sub *subs;
  size_t n_subs;
  int next_sub_id;
  eaudit__login_hours_fn hours_fn;
  void *hours_payload;
  /* The time zone of the shipped origin being evaluated on a central
   * store (rules.c), kept from one batch to the next. */
  eaudit__tz *origin_tz;
  char *origin_tz_name;
} eaudit__rules;

/* The engine state of a handle, created on first use. */
int eaudit__rules_get(eaudit_store *s, eaudit__rules **out);
/* Revalidate against the database inside a transaction: another process
 * may have changed the rule set or the rule state. */
int eaudit__rules_txn_ready(eaudit_store *s, eaudit__rules *r);
/* A prepared statement of the engine (rules_sql.h), reset and unbound;
 * NULL with the error set when it cannot be prepared. */
eaudit__rq *eaudit__rules_stmt(eaudit_store *s, eaudit__rules *r, int id);
/* Set the engine's setting key (meta on SQLite, eaudit.rule_meta on
 * PostgreSQL) to text, or when text is NULL to num. */
int eaudit__rules_meta_set(eaudit_store *s, eaudit__rules *r, const char *key,
                           const char *text, int64_t num);
/* PostgreSQL: move the rules generation (eaudit.rule_meta), so that other
 * handles drop their cached state, and remember it as this handle's. */
int eaudit__rules_pg_bump(eaudit_store *s, eaudit__rules *r);
/* Forget every cached per-key state, unwritten changes included. */
void eaudit__rules_cache_clear(eaudit__rules *r);
/* Write the changed per-key states to rule_state at the end of an append
 * whose last event was r->cur_seq (presence and sequence states wait for
 * a checkpoint unless an episode changed them). */
int eaudit__rules_flush(eaudit_store *s, eaudit__rules *r);
/* Write every changed state and make next_seq the checkpoint: every event
 * before it has been evaluated. */
int eaudit__rules_checkpoint(eaudit_store *s, eaudit__rules *r,
                             int64_t next_seq);
/* Before a purge removes the events through through_seq: checkpoint if
 * a catch-up would still read them. */
int eaudit__rules_before_purge(eaudit_store *s, int64_t through_seq);
/* Would a catch-up read an event at or below through_seq? (Errors read
 * as yes: the checkpoint then reports them.) */
int eaudit__rules_catch_up_reads(eaudit_store *s, eaudit__rules *r,
                                 int64_t through_seq);
/* The seq after the last stored event. */
int eaudit__rules_next_seq(eaudit_store *s, int64_t *out);
/* Read r->since for the rules of r->rs. */
int eaudit__rules_since_load(eaudit_store *s, eaudit__rules *r);
/* Can a threshold condition keyed by this field rebuild its window from
 * an events index (instead of persisting it)? */
int eaudit__rules_key_rebuilds(int key_field);
/* A finding's key as text, "field:value" (rules_eval.c); the length. */
int eaudit__rules_key_text(char *buf, size_t size, int kf, int64_t kv);
/* Evaluate one event (rules_eval.c). */
int eaudit__rules_eval(eaudit_store *s, eaudit__rules *r,
                       const eaudit_event *ev);
/* Remember a newly opened finding for delivery after commit. */
int eaudit__rules_pending_add(eaudit__rules *r, int64_t rowid);

#endif
