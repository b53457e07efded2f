/**
 * @file eaudit/report.h
 * @brief Reports, export and import: sinks, report options, the report
 *        writers (CSV, JSON, JSON Lines, HTML, syslog, CEF), export in seq
 *        order, import of JSON Lines and single-event JSON.
 *
 * Every writer streams in constant memory: events come from a cursor and
 * leave through a sink's fixed-size buffer. docs/formats.md specifies each
 * format, the field mappings and the interchange shape.
 */
#ifndef EAUDIT_REPORT_H
#define EAUDIT_REPORT_H

#include <stdio.h>

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

/** @name Sinks: where a report goes */
/**@{*/

/** A destination for bytes: a FILE *, a file descriptor or a callback. */
typedef struct eaudit_sink eaudit_sink;

/**
 * Receives @p len bytes (never 0). Return 0 to go on; any other value stops
 * the writer, which fails with EAUDIT_EIO (class CALLBACK, detail = the
 * value returned).
 */
typedef int (*eaudit_write_fn)(const void *buf, size_t len, void *payload);

/** A sink writing to @p fp (borrowed; not closed). */
EAUDIT_EXTERN int eaudit_sink_from_file(eaudit_sink **out, FILE *fp);

/** A sink writing to file descriptor @p fd (borrowed; not closed). Short
 *  writes and EINTR are retried. */
EAUDIT_EXTERN int eaudit_sink_from_fd(eaudit_sink **out, int fd);

/** A sink handing its bytes to @p fn, in chunks of at most 64 KiB. */
EAUDIT_EXTERN int eaudit_sink_from_callback(eaudit_sink **out,
                                            eaudit_write_fn fn, void *payload);

/**
 * Write out what the sink holds (and fflush() a FILE *). Writers flush
 * when they finish; call this after writing to the sink yourself.
 */
EAUDIT_EXTERN int eaudit_sink_flush(eaudit_sink *sink);

/** Bytes accepted by the sink so far (flushed or not). */
EAUDIT_EXTERN uint64_t eaudit_sink_bytes(const eaudit_sink *sink);

/** Free a sink without flushing it. NULL is fine. */
EAUDIT_EXTERN void eaudit_sink_free(eaudit_sink *sink);
/**@}*/

/** @name Report options */
/**@{*/

/** Output formats. Values are ABI. */
typedef enum eaudit_format {
  EAUDIT_FORMAT_CSV = 1,    /**< RFC 4180, UTF-8, a header row; events only */
  EAUDIT_FORMAT_JSON = 2,   /**< one document: report, summary, events */
  EAUDIT_FORMAT_JSONL = 3,  /**< one event per line, the interchange shape */
  EAUDIT_FORMAT_HTML = 4,   /**< one self-contained XHTML-compatible page */
  EAUDIT_FORMAT_SYSLOG = 5, /**< RFC 5424 lines with structured data */
  EAUDIT_FORMAT_CEF = 6     /**< ArcSight CEF lines */
} eaudit_format;

/** Settings of reports, exports and imports. */
typedef struct eaudit_report_options eaudit_report_options;

/** Option keys. Values are ABI. */
typedef enum eaudit_report_option {
  /** int: an eaudit_format (report default CSV, export default JSONL). */
  EAUDIT_REPORT_OPT_FORMAT = 1,
  /** int: 1 (default) prefixes CSV text cells starting with = + - @ with an
   *  apostrophe (docs/formats.md); 0 writes them as they are. */
  EAUDIT_REPORT_OPT_CSV_NEUTRALIZE = 2,
  /** int: the user (int64 id) who asks for the report or export. Required
   *  when the call records a report_exported event. */
  EAUDIT_REPORT_OPT_ACTOR = 3,
  /** int: 1 (default) appends a report_exported event naming the actor;
   *  0 does not (for shippers that export continuously). */
  EAUDIT_REPORT_OPT_RECORD = 4,
  /** int: events per import transaction (default 1000, 1 to 100000). */
  EAUDIT_REPORT_OPT_IMPORT_BATCH = 5,
  /** str: HOSTNAME of syslog lines (default "-"). */
  EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME = 6,
  /** str: APP-NAME of syslog lines (default "entryfy-audit"). */
  EAUDIT_REPORT_OPT_SYSLOG_APPNAME = 7,
  /** str: title of the HTML report (default "Audit log report"). */
  EAUDIT_REPORT_OPT_TITLE = 8,
  /** int: 1 (default) writes the summary in JSON and HTML; 0 leaves it out. */
  EAUDIT_REPORT_OPT_SUMMARY = 9
} eaudit_report_option;

/**
 * Progress of long work: @p done of @p total (0 when unknown). Reports and
 * exports count events; imports count bytes read. Return nonzero to stop:
 * the call then fails with EAUDIT_ECANCELLED. Called at least once at the
 * end.
 */
typedef int (*eaudit_progress_fn)(uint64_t done, uint64_t total,
                                  void *payload);

/** Create report options holding every default. */
EAUDIT_EXTERN int eaudit_report_options_new(eaudit_report_options **out);

/** Free report options. NULL is fine. */
EAUDIT_EXTERN void eaudit_report_options_free(eaudit_report_options *opts);

/**
 * Set an integer option. EAUDIT_EOPTION for an unknown or text key,
 * EAUDIT_ERANGE for a value out of range.
 */
EAUDIT_EXTERN int eaudit_report_options_set_int(eaudit_report_options *opts,
                                                int key, int64_t value);

/** Set a text option (copied; NULL restores the default). At most 255
 *  bytes of UTF-8. */
EAUDIT_EXTERN int eaudit_report_options_set_str(eaudit_report_options *opts,
                                                int key, const char *value);

/** Install a progress callback (NULL removes it). */
EAUDIT_EXTERN int
eaudit_report_options_set_progress(eaudit_report_options *opts,
                                   eaudit_progress_fn fn, void *payload);
/**@}*/

/** @name Reports and export */
/**@{*/

/**
 * Write a report of the events @p query matches (its order and limit are
 * ignored: events come newest first): a summary (counts per type, per day
 * and per user, findings in the interval, users and groups whose
 * permissions are expired) then the events with the names that held when
 * they happened, times in the store's time zone. Then, unless
 * EAUDIT_REPORT_OPT_RECORD is 0, a report_exported event naming the actor
 * is appended (also when writing failed part-way, with "complete": false).
 * EAUDIT_EINVAL when no actor is set and the report is to be recorded.
 *
 * Everything is read in one snapshot (SQLite: one read transaction;
 * PostgreSQL: one REPEATABLE READ READ ONLY transaction), so the summary
 * and the events agree while others append; the record is appended after
 * it ends. Called while the handle is inside a transaction (from a
 * progress callback of another report), it reads in that one and cannot
 * record (EAUDIT_EMISUSE after writing). On a central (postgresql://)
 * store a report covers the events of every origin, shipped sites
 * included, and records on the central store's own chain.
 */
EAUDIT_EXTERN int eaudit_store_report(eaudit_store *store,
                                      const eaudit_query *query,
                                      const eaudit_report_options *opts,
                                      eaudit_sink *sink);

/**
 * Export the events with seq greater than @p after_seq in seq order, as
 * JSON Lines (default), CSV, syslog or CEF lines. @p out_last_seq (may be
 * NULL) receives the seq of the last event written (@p after_seq if none),
 * to resume from. Records a report_exported event like eaudit_store_report()
 * unless EAUDIT_REPORT_OPT_RECORD is 0. EAUDIT_EUNSUPPORTED for the JSON
 * and HTML formats (they are reports).
 *
 * Seq numbers belong to a chain. On a central (postgresql://) store each
 * origin has its own, so the export writes the handle's own chain (the
 * events appended or imported through the central store itself), as
 * eaudit_store_tail() reads it; events shipped from sites are read with
 * eaudit_store_search() or a report, and a site's own export is run at the
 * site.
 */
EAUDIT_EXTERN int eaudit_store_export(eaudit_store *store, int64_t after_seq,
                                      const eaudit_report_options *opts,
                                      eaudit_sink *sink,
                                      int64_t *out_last_seq);
/**@}*/

/** @name Single events as JSON (the interchange shape) */
/**@{*/

/** Flags of eaudit_event_to_json(). */
typedef enum eaudit_json_flag {
  EAUDIT_JSON_STORED = 1, /**< add seq, recorded_at and hash when known */
  EAUDIT_JSON_NAMES = 2   /**< add subject_name, door_name, ... as they were */
} eaudit_json_flag;

/**
 * Encode an event as one line of JSON (no newline), the shape export
 * writes. @p flags combines eaudit_json_flag. Free @p out with eaudit_free().
 */
EAUDIT_EXTERN int eaudit_event_to_json(eaudit_store *store,
                                       const eaudit_event *ev, int flags,
                                       char **out);

/**
 * Decode one JSON object in the interchange shape into a new event (free
 * it with eaudit_event_free()). Fields export adds (seq, recorded_at, hash,
 * names) and unknown fields are ignored; @p unknown_fields (may be NULL)
 * receives the number of unknown ones. EAUDIT_EFORMAT for malformed JSON,
 * EAUDIT_EFIELD for a field of the wrong kind, ETYPE/ERANGE/ETIME for bad
 * values. The event is not validated further until appended.
 */
EAUDIT_EXTERN int eaudit_event_from_json(eaudit_store *store, const char *json,
                                         size_t len, size_t *unknown_fields,
                                         eaudit_event **out);

/**
 * The id that import gives an event without one: a UUIDv7 layout whose
 * 48-bit time is occurred_at in ms and whose other bits come from a
 * BLAKE2b hash of the canonical content (docs/formats.md).
 */
EAUDIT_EXTERN int eaudit_event_derive_id(const eaudit_event *ev,
                                         uint8_t out[16]);
/**@}*/

/** @name Import of JSON Lines */
/**@{*/

/** Where import reads from: a FILE *, a file descriptor or a buffer. */
typedef struct eaudit_source eaudit_source;

/** The outcome of an import. */
typedef struct eaudit_import_result eaudit_import_result;

/** A source reading @p fp (borrowed; not closed). */
EAUDIT_EXTERN int eaudit_source_from_file(eaudit_source **out, FILE *fp);

/** A source reading file descriptor @p fd (borrowed; not closed). */
EAUDIT_EXTERN int eaudit_source_from_fd(eaudit_source **out, int fd);

/** A source reading @p len bytes at @p buf (borrowed until freed). */
EAUDIT_EXTERN int eaudit_source_from_buffer(eaudit_source **out,
                                            const void *buf, size_t len);

/** Free a source. NULL is fine. */
EAUDIT_EXTERN void eaudit_source_free(eaudit_source *src);

/**
 * Import JSON Lines: each valid line is appended (in transactions of
 * EAUDIT_REPORT_OPT_IMPORT_BATCH lines); a line whose id is already stored
 * is skipped; each bad line is rejected and listed with its number and
 * reason. A line without an id gets eaudit_event_derive_id(), so importing
 * a file again adds nothing and an interrupted import resumes without
 * duplicates. Blank lines are ignored. The call fails only for errors of
 * the source or the store (the result then holds what was committed);
 * bad lines are not failures. @p opts may be NULL.
 */
EAUDIT_EXTERN int eaudit_store_import(eaudit_store *store, eaudit_source *src,
                                      const eaudit_report_options *opts,
                                      eaudit_import_result **out);

/**
 * Counts of an import: lines read (blank ones included), events appended,
 * lines skipped as already stored, lines rejected, and unknown fields
 * ignored. Any pointer may be NULL.
 */
EAUDIT_EXTERN int eaudit_import_result_counts(const eaudit_import_result *r,
                                              uint64_t *lines,
                                              uint64_t *appended,
                                              uint64_t *skipped,
                                              uint64_t *rejected,
                                              uint64_t *unknown_fields);

/** Number of rejected lines listed (equal to the rejected count). */
EAUDIT_EXTERN size_t eaudit_import_result_bad_count(
    const eaudit_import_result *r);

/**
 * The @p index-th rejected line, in file order: its 1-based number, the
 * error code and the reason (borrowed, valid while @p r lives). Any output
 * pointer may be NULL.
 */
EAUDIT_EXTERN int eaudit_import_result_bad_at(const eaudit_import_result *r,
                                              size_t index, uint64_t *line,
                                              int *code, const char **reason);

/** Free an import result. NULL is fine. */
EAUDIT_EXTERN void eaudit_import_result_free(eaudit_import_result *r);
/**@}*/

EAUDIT_END_DECLS

#endif /* EAUDIT_REPORT_H */
