/* entryfy-audit: shared declarations of the command-line tool. The tool uses
 * only the public API of the library (<eaudit.h>). */
#ifndef ENTRYFY_AUDIT_CLI_H
#define ENTRYFY_AUDIT_CLI_H

#include <eaudit.h>

#include <stdio.h>

/* Exit codes (documented in docs/entryfy-audit.1). */
enum {
  CLI_OK = 0,
  CLI_NOTHING = 1, /* the command ran and found nothing */
  CLI_USAGE = 2,   /* bad flags or arguments; nothing was done */
  CLI_FAIL = 3,    /* the store or a file could not be used */
  CLI_DAMAGE = 4   /* verify found damage */
};

#define CLI_MAX_TYPES 64
#define CLI_DEFAULT_DB "./entryfy-demo.db"

/* Option families a command accepts. */
enum {
  CLI_F_FILTER = 1 << 0, /* --user --as --since --until --type --door ... */
  CLI_F_PAGE = 1 << 1,   /* --limit --after --order */
  CLI_F_FORMAT = 1 << 2, /* --format */
  CLI_F_OUTPUT = 1 << 3  /* -o/--output */
};

/* Command-specific options. id is the command's own number (>= 100). */
typedef struct cli_opt {
  const char *name;
  char short_name;
  int has_arg;
  int id;
} cli_opt;

typedef struct cli_filters {
  const char *user, *as, *since, *until, *search;
  const char *door, *group, *device, *site;
  char *types[CLI_MAX_TYPES];
  size_t n_types;
  const char *limit, *after, *order;
  int given; /* any filter (not paging) was given */
} cli_filters;

typedef struct cli {
  const char *cmd;    /* "search" */
  const char *usage;  /* the command's --help text */
  const char *db;     /* --db, $ENTRYFY_AUDIT_DB or the default */
  cli_filters f;
  const char *format; /* NULL: the command's default */
  const char *output; /* NULL: stdout */
  int has_now;        /* ENTRYFY_AUDIT_NOW is set */
  eaudit_time now;    /* its value */
  size_t n_args;      /* positional arguments */
  char **args;
} cli;

typedef struct cli_command {
  const char *name;
  const char *alias;
  const char *summary;
  int (*run)(int argc, char **argv);
} cli_command;

/* ---- main.c: parsing, messages, opening stores ---- */

/* Parse argv (argv[0] is the command name). Shared families as given by
 * @p families; command options through @p opts/@p on_opt. Returns -1 to go
 * on, or an exit code (0 after --help, CLI_USAGE on a bad flag). */
int cli_parse(cli *c, int argc, char **argv, const char *usage, int families,
              const cli_opt *opts, int (*on_opt)(cli *c, int id,
                                                const char *val, void *p),
              void *payload);
void cli_free(cli *c);

/* Print "entryfy-audit CMD: message" on stderr and return @p code. */
int cli_fail(const cli *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As cli_fail() for a library error: appends the library's message and maps
 * the code to an exit code (CLI_USAGE for bad input, CLI_FAIL otherwise). */
int cli_lib_fail(const cli *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The usage error for a command: message plus a pointer to --help. */
int cli_usage(const cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Open c->db. A missing file is an error unless @p create. With
 * @p fix_clock and ENTRYFY_AUDIT_NOW set, the store's clock returns that
 * time (only for commands that append nothing). */
int cli_open(cli *c, int create, int fix_clock, const char *zone,
             eaudit_store **out);
/* As cli_open() for an existing store, read-only (nothing is written). */
int cli_open_read_only(cli *c, int fix_clock, eaudit_store **out);

/* "now" for time words: ENTRYFY_AUDIT_NOW or EAUDIT_TIME_NONE. */
eaudit_time cli_now(const cli *c);

/* Build a query from the filters. With no filter at all it is the default
 * view (user 1, past month). */
int cli_build_query(cli *c, eaudit_store *s, int default_view,
                    eaudit_query **out);

/* RFC 3339 with an offset (as import and ENTRYFY_AUDIT_NOW take). */
int cli_parse_instant(eaudit_store *s, const char *text, eaudit_time *out);

/* Parse an int64 (whole text). 0 on success. */
int cli_parse_i64(const char *text, int64_t *out);

/* Resolve --user (a number, or a name prefix that matches one user). */
int cli_resolve_user(cli *c, eaudit_store *s, const char *text, int64_t *out);

/* Open -o FILE (or stdout). */
int cli_open_output(cli *c, FILE **out);
int cli_close_output(cli *c, FILE *f);

/* Text width of a terminal on fd (0 when not a terminal). */
int cli_term_width(int fd);

/* ---- keys.c: key files (one line of 64 hex digits) ---- */
/* Lower-case hex of @p n bytes into @p out (2n+1 bytes). */
void key_hex(const uint8_t *key, size_t n, char *out);
/* Read a signing key file (the 32-byte seed). -1 or an exit code. */
int key_read_secret(cli *c, const char *path, uint8_t seed[32]);
/* --public-key: 64 hex digits, or a file holding them. -1 or an exit code. */
int key_read_public(cli *c, const char *arg, uint8_t pk[32]);
/* Write a key file: the secret one 0600, the public one 0644. Refuses an
 * existing file unless @p replace. -1 or an exit code. */
int key_write_secret(cli *c, const char *path, const uint8_t seed[32],
                     int replace);
int key_write_public(cli *c, const char *path, const uint8_t pk[32],
                     int replace);
/* Read the signing key file and give it to the handle. -1 or an exit
 * code (CLI_USAGE when it is not the store's current key). */
int key_give_store(cli *c, eaudit_store *s, const char *path);
/* The newest record of a checkpoint file (concatenated records, as
 * 'checkpoint --export' writes) and the number of records (may be NULL).
 * -1 or an exit code (CLI_USAGE for a file that is not one). */
int checkpoint_file_newest(cli *c, const char *path,
                           uint8_t rec[EAUDIT_CHECKPOINT_SIZE],
                           int64_t *count);

/* ---- output.c ---- */
enum { OUT_TABLE, OUT_JSON, OUT_JSONL, OUT_CSV };
int out_format_from_name(const char *name, int allowed_mask, int *out);

typedef struct out_writer {
  FILE *f;
  int format;
  eaudit_store *store;
  int width;     /* table: the line width */
  size_t count;  /* rows written */
  int with_names;
  int with_store_fields; /* seq, recorded_at, hash */
} out_writer;

void out_begin(out_writer *w);
/* @p cur may be NULL (no names). */
int out_event(out_writer *w, eaudit_cursor *cur, const eaudit_event *ev);
void out_end(out_writer *w);
/* Write one JSON string (with quotes). */
void out_json_string(FILE *f, const char *s);
/* Write the DESIGN §7 event object (no newline) through
 * eaudit_event_to_json(); names when @p cur is given. 0 or a library code. */
int out_event_object(FILE *f, eaudit_store *s, eaudit_cursor *cur,
                      const eaudit_event *ev, int with_store_fields);

/* ---- progress.c ---- */
typedef struct progress {
  int on;
  const char *what;
  int64_t total, done;
  int64_t last_shown;
  int last_pct;
} progress;
void progress_start(progress *p, const char *what, int64_t total);
void progress_update(progress *p, int64_t done);
void progress_end(progress *p);

/* ---- demo_data.c ---- */
typedef struct demo_stats {
  size_t events, logins, users, doors, groups, devices;
} demo_stats;
/* Fill an empty store with a simulated month ending at @p end. */
int demo_fill(eaudit_store *s, uint64_t seed, eaudit_time end,
              void (*set_clock)(void *payload, eaudit_time t),
              void *clock_payload, progress *prog, demo_stats *st);

/* splitmix64/xoshiro256** PRNG, shared by the demo and its random source. */
typedef struct rng {
  uint64_t s[4];
} rng;
void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
/* Uniform in [0, n). */
uint64_t rng_below(rng *r, uint64_t n);
double rng_unit(rng *r);

/* ---- commands ---- */
int cmd_demo(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_findings(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_ship(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_users(int argc, char **argv);
int cmd_name(int argc, char **argv);
int cmd_time(int argc, char **argv);

/* Shared by search and demo: print events of a query in a format. Returns
 * the number printed through @p n_out. */
int search_print(cli *c, eaudit_store *s, eaudit_query *q, FILE *f,
                 int format, size_t *n_out);

/* Shared by findings and demo: print the findings of @p fq that
 * @p wanted (may be NULL) accepts, as a table or JSON Lines. */
int findings_print(cli *c, eaudit_store *s, const eaudit_finding_query *fq,
                   FILE *f, int jsonl,
                   int (*wanted)(const eaudit_finding *, void *),
                   void *payload, size_t *n_out);

#endif
