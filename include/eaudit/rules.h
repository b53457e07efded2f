/**
 * @file eaudit/rules.h
 * @brief Anomaly rules, findings, finding subscribers and the "expired now"
 *        list. See docs/rules.md for the rule language and the built-ins.
 *        On a store opened on a postgresql:// URI the rules evaluate the
 *        events appended through such handles (the central store's own
 *        chain), not those shipped in from sites (docs/scale-out.md).
 */
#ifndef EAUDIT_RULES_H
#define EAUDIT_RULES_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

/** @name Handles of this module */
/**@{*/
typedef struct eaudit_finding eaudit_finding;   /**< one finding */
typedef struct eaudit_findings eaudit_findings; /**< a list of findings */
/** Filters for findings (queries and finding subscribers). */
typedef struct eaudit_finding_query eaudit_finding_query;
typedef struct eaudit_expired eaudit_expired; /**< the "expired now" list */
/**@}*/

/** Severity of a rule and its findings. Values are ABI. */
typedef enum eaudit_severity {
  EAUDIT_SEVERITY_INFO = 0,
  EAUDIT_SEVERITY_WARNING = 1,
  EAUDIT_SEVERITY_CRITICAL = 2
} eaudit_severity;

/** The human workflow state of a finding. Values are ABI. */
typedef enum eaudit_finding_status {
  EAUDIT_FINDING_OPEN = 0,
  EAUDIT_FINDING_ACKNOWLEDGED = 1,
  EAUDIT_FINDING_RESOLVED = 2
} eaudit_finding_status;

/** Name of a severity ("warning"), or NULL. */
EAUDIT_EXTERN const char *eaudit_severity_name(int severity);

/** Name of a finding state ("acknowledged"), or NULL. */
EAUDIT_EXTERN const char *eaudit_finding_state_name(int state);

/** @name The rule set */
/**@{*/

/**
 * Replace the store's active rule set with the JSON document @p json
 * (@p len bytes; the language is in docs/rules.md). The document is
 * validated first: an invalid one fails with EAUDIT_ERULES, a message
 * naming the field path and the reason ("rules[2].window: ..."), and
 * changes nothing. On success a rules_changed event with @p actor as
 * subject and actor is appended in the same transaction, the state of
 * every rule that changed or went away is discarded, and findings already
 * stored are kept. Past events are not re-evaluated (see
 * eaudit_store_reevaluate()).
 */
EAUDIT_EXTERN int eaudit_store_set_rules(eaudit_store *store, const char *json,
                                         size_t len, int64_t actor);

/**
 * The active rule set as a JSON document with every built-in and every
 * default written out (allocated; free with eaudit_free()). A new store has
 * the built-in rules.
 */
EAUDIT_EXTERN int eaudit_store_rules(eaudit_store *store, char **out);

/** The active rule set's version: 0 for the built-ins of a new store, then
 *  one more at each eaudit_store_set_rules(). */
EAUDIT_EXTERN int eaudit_store_rules_version(eaudit_store *store,
                                             int64_t *out);

/**
 * Check a rule set without installing it. EAUDIT_ERULES with the field
 * path and reason when it is invalid.
 */
EAUDIT_EXTERN int eaudit_store_check_rules(eaudit_store *store,
                                           const char *json, size_t len);

/**
 * Batch re-evaluation: replay every stored event with seq >= @p since_seq,
 * in seq order, through the active rule set, starting from empty rule
 * state, and replace the findings whose first event has seq >= since_seq
 * with what the replay finds. With @p since_seq at or below the first
 * stored seq the result equals what incremental evaluation with this rule
 * set would have stored. Findings found again keep their id and their
 * acknowledged / resolved state; only findings that did not exist before
 * are delivered to finding subscribers. @p count_out (may be NULL)
 * receives the number of findings the replay opened. Runs in one write
 * transaction.
 */
EAUDIT_EXTERN int eaudit_store_reevaluate(eaudit_store *store,
                                          int64_t since_seq,
                                          int64_t *count_out);
/**@}*/

/** @name Findings */
/**@{*/

/** Size of the buffer eaudit_finding_key() needs at most, with the NUL. */
#define EAUDIT_FINDING_KEY_MAX 32

/** Create a finding query: every finding, newest first, no limit. */
EAUDIT_EXTERN int eaudit_finding_query_new(eaudit_finding_query **out);

/** Free a finding query. NULL is fine. */
EAUDIT_EXTERN void eaudit_finding_query_free(eaudit_finding_query *q);

/**
 * Findings whose episode overlaps [since, until) (first_at < until and
 * last_at >= since); either end may be EAUDIT_TIME_NONE. Ignored by
 * subscribers. EAUDIT_ETIME when since >= until.
 */
EAUDIT_EXTERN int eaudit_finding_query_set_interval(eaudit_finding_query *q,
                                                    eaudit_time since,
                                                    eaudit_time until);

/** Findings of at least this severity (eaudit_severity). */
EAUDIT_EXTERN int eaudit_finding_query_set_min_severity(eaudit_finding_query *q,
                                                        int severity);

/** Findings of one rule (copied; NULL removes the filter). */
EAUDIT_EXTERN int eaudit_finding_query_set_rule(eaudit_finding_query *q,
                                                const char *rule_id);

/** Findings of one key, "subject:42" (copied; NULL removes the filter). */
EAUDIT_EXTERN int eaudit_finding_query_set_key(eaudit_finding_query *q,
                                               const char *key);

/** Findings whose subject is @p user. */
EAUDIT_EXTERN int eaudit_finding_query_set_user(eaudit_finding_query *q,
                                                int64_t user);

/** Findings in one state (eaudit_finding_status); -1 removes the filter. */
EAUDIT_EXTERN int eaudit_finding_query_set_state(eaudit_finding_query *q,
                                                 int state);

/** At most @p limit findings (0: no limit). */
EAUDIT_EXTERN int eaudit_finding_query_set_limit(eaudit_finding_query *q,
                                                 size_t limit);

/**
 * Run a finding query (NULL: every finding). Results are ordered by
 * first_at, newest first, then by id.
 */
EAUDIT_EXTERN int eaudit_store_findings(eaudit_store *store,
                                        const eaudit_finding_query *q,
                                        eaudit_findings **out);

/** Number of findings in a list. */
EAUDIT_EXTERN size_t eaudit_findings_size(const eaudit_findings *list);

/** The @p index-th finding (borrowed until the list is freed), or NULL. */
EAUDIT_EXTERN const eaudit_finding *
eaudit_findings_get(const eaudit_findings *list, size_t index);

/** Free a list of findings. NULL is fine. */
EAUDIT_EXTERN void eaudit_findings_free(eaudit_findings *list);

/**
 * Read one finding by id (allocated; free with eaudit_finding_free()).
 * EAUDIT_ENOTFOUND when no finding has that id.
 */
EAUDIT_EXTERN int eaudit_store_finding(eaudit_store *store,
                                       const uint8_t id[16],
                                       eaudit_finding **out);

/** Free a finding read with eaudit_store_finding(). NULL is fine. */
EAUDIT_EXTERN void eaudit_finding_free(eaudit_finding *f);

/** The finding's 16-byte id. */
EAUDIT_EXTERN int eaudit_finding_id(const eaudit_finding *f, uint8_t out[16]);

/** The id of the rule that found it (borrowed). */
EAUDIT_EXTERN const char *eaudit_finding_rule(const eaudit_finding *f);

/** The severity (eaudit_severity) the rule had when it opened. */
EAUDIT_EXTERN int eaudit_finding_severity(const eaudit_finding *f);

/** The key, "subject:42" or "door:7" (borrowed). */
EAUDIT_EXTERN const char *eaudit_finding_key(const eaudit_finding *f);

/** The user concerned; EAUDIT_ENOTFOUND when none (a door or site key). */
EAUDIT_EXTERN int eaudit_finding_subject(const eaudit_finding *f,
                                         int64_t *out);

/** Occurred_at of the earliest event behind it. */
EAUDIT_EXTERN eaudit_time eaudit_finding_first_at(const eaudit_finding *f);

/** Occurred_at of the latest event behind it. */
EAUDIT_EXTERN eaudit_time eaudit_finding_last_at(const eaudit_finding *f);

/**
 * The end of the episode's quiet window: a later event that makes the
 * rule's condition hold at or after this time opens a new finding.
 */
EAUDIT_EXTERN eaudit_time eaudit_finding_quiet_until(const eaudit_finding *f);

/** 1 when an event behind it arrived late (see EAUDIT_OPT_LATENESS_US). */
EAUDIT_EXTERN int eaudit_finding_late(const eaudit_finding *f);

/** The state (eaudit_finding_status). */
EAUDIT_EXTERN int eaudit_finding_state(const eaudit_finding *f);

/**
 * Who moved the finding to its state and when; EAUDIT_ENOTFOUND while it
 * is open. Either output may be NULL.
 */
EAUDIT_EXTERN int eaudit_finding_state_change(const eaudit_finding *f,
                                              int64_t *by, eaudit_time *at);

/** Number of events behind the finding. */
EAUDIT_EXTERN size_t eaudit_finding_event_count(const eaudit_finding *f);

/** The @p index-th event's id and seq (in seq order); either may be NULL. */
EAUDIT_EXTERN int eaudit_finding_event(const eaudit_finding *f, size_t index,
                                       uint8_t id_out[16], int64_t *seq_out);

/**
 * The finding as one line of JSON, without a newline (allocated; free
 * with eaudit_free()): {"id", "rule", "severity", "subject", "key",
 * "first_at", "last_at", "events": [event ids], "state"} with RFC 3339 UTC
 * times. This is the interchange shape of `findings --format jsonl`.
 */
EAUDIT_EXTERN int eaudit_finding_to_json(const eaudit_finding *f, char **out);

/**
 * Acknowledge (EAUDIT_FINDING_ACKNOWLEDGED) or resolve
 * (EAUDIT_FINDING_RESOLVED) a finding, recording @p by and the store's
 * now. EAUDIT_ENOTFOUND for an unknown id, EAUDIT_EINVAL for another state
 * and for moving a resolved finding back to acknowledged.
 */
EAUDIT_EXTERN int eaudit_store_finding_set_state(eaudit_store *store,
                                                 const uint8_t id[16],
                                                 int state, int64_t by);
/**@}*/

/** @name Finding subscribers */
/**@{*/

/**
 * Called once for each finding opened by a transaction of this handle,
 * after that transaction committed (never for rolled-back work). The
 * finding is borrowed for the call. A nonzero return is logged and
 * otherwise ignored.
 */
typedef int (*eaudit_finding_fn)(const eaudit_finding *f, void *payload);

/**
 * Subscribe to findings opened through this handle. @p filter (copied;
 * may be NULL) selects by minimum severity, rule, key, user and state; its
 * interval and limit are ignored. @p id_out (may be NULL) receives an id
 * for eaudit_store_unsubscribe_findings().
 */
EAUDIT_EXTERN int eaudit_store_subscribe_findings(
    eaudit_store *store, const eaudit_finding_query *filter,
    eaudit_finding_fn fn, void *payload, int *id_out);

/** Remove a finding subscriber. EAUDIT_ENOTFOUND for an unknown id. */
EAUDIT_EXTERN int eaudit_store_unsubscribe_findings(eaudit_store *store,
                                                    int id);
/**@}*/

/** @name Expired now */
/**@{*/

/**
 * The users and groups whose latest permissions_expired (by occurred_at)
 * is not followed by a permissions_prolonged at the same time or later:
 * the ones the console shows in red. Users first, then groups, each by id.
 * On a PostgreSQL store, from those events of every origin still stored.
 */
EAUDIT_EXTERN int eaudit_store_expired(eaudit_store *store,
                                       eaudit_expired **out);

/** Number of entries. */
EAUDIT_EXTERN size_t eaudit_expired_size(const eaudit_expired *list);

/**
 * The @p index-th entry: @p kind is EAUDIT_KIND_USER or EAUDIT_KIND_GROUP,
 * @p id the user or group, @p expired_at the latest expiry. Any output may
 * be NULL.
 */
EAUDIT_EXTERN int eaudit_expired_get(const eaudit_expired *list, size_t index,
                                     int *kind, int64_t *id,
                                     eaudit_time *expired_at);

/** Free the list. NULL is fine. */
EAUDIT_EXTERN void eaudit_expired_free(eaudit_expired *list);
/**@}*/

EAUDIT_END_DECLS

#endif /* EAUDIT_RULES_H */
