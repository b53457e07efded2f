/* Rendering events: a table that fits the terminal, JSON, JSON Lines and
 * CSV. The JSON object is the interchange shape of DESIGN section 7. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int out_format_from_name(const char *name, int allowed_mask, int *out) {
  static const char *const names[] = {"table", "json", "jsonl", "csv"};
  for (int i = 0; i < 4; i++)
    if (strcmp(name, names[i]) == 0 && (allowed_mask & (1 << i))) {
      *out = i;
      return 0;
    }
  return -1;
}

void out_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
    }
  }
  fputc('"', f);
}

/* The interchange shape comes from the library (eaudit_event_to_json), so
 * search --format json/jsonl and export write the same bytes per event. */
int out_event_object(FILE *f, eaudit_store *s, eaudit_cursor *cur,
                     const eaudit_event *ev, int with_store_fields) {
  char *text = NULL;
  int flags = (with_store_fields ? EAUDIT_JSON_STORED : 0) |
              (cur ? EAUDIT_JSON_NAMES : 0);
  int rc = eaudit_event_to_json(s, ev, flags, &text);
  if (rc)
    return rc;
  fputs(text, f);
  eaudit_free(text);
  return 0;
}

/* ---- CSV (RFC 4180) ---- */

static void csv_cell(FILE *f, const char *s, int first) {
  if (!first)
    fputc(',', f);
  if (s == NULL)
    return;
  /* A leading = + - @ would make a spreadsheet run a formula: neutralise
   * it with an apostrophe, as report.csv does. */
  int neutralise = (*s == '=' || *s == '+' || *s == '-' || *s == '@');
  int quote = neutralise || strpbrk(s, ",\"\r\n") != NULL;
  if (quote)
    fputc('"', f);
  if (neutralise)
    fputc('\'', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  if (quote)
    fputc('"', f);
}

static void csv_int(FILE *f, const eaudit_event *ev, int field) {
  int64_t v;
  char b[32] = "";
  if (eaudit_event_get(ev, field, &v) == 0)
    snprintf(b, sizeof b, "%" PRId64, v);
  csv_cell(f, b, 0);
}

static void csv_row(out_writer *w, eaudit_cursor *cur, const eaudit_event *ev) {
  FILE *f = w->f;
  char b[64], t[EAUDIT_TIME_STRMAX];
  int64_t v = 0, type = 0, cred = 0, reason = 0;
  uint8_t id[16];
  eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &v);
  snprintf(b, sizeof b, "%" PRId64, v);
  csv_cell(f, b, 1);
  b[0] = 0;
  if (eaudit_event_id(ev, id) == 0)
    eaudit_uuid_format(id, b);
  csv_cell(f, b, 0);
  eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &v);
  eaudit_store_format_time(w->store, v, EAUDIT_TIME_RFC3339_UTC, t, sizeof t);
  csv_cell(f, t, 0);
  eaudit_store_format_time(w->store, v, EAUDIT_TIME_LOCAL, t, sizeof t);
  csv_cell(f, t, 0);
  eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &type);
  csv_cell(f, eaudit_store_type_name(w->store, (int)type), 0);
  csv_cell(f, eaudit_store_type_label(w->store, (int)type), 0);
  static const int fields[] = {EAUDIT_FIELD_SUBJECT, EAUDIT_FIELD_ACTOR,
                               EAUDIT_FIELD_DOOR, EAUDIT_FIELD_GROUP,
                               EAUDIT_FIELD_DEVICE};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    csv_int(f, ev, fields[i]);
    csv_cell(f, cur ? eaudit_cursor_name(cur, fields[i]) : NULL, 0);
  }
  csv_int(f, ev, EAUDIT_FIELD_SITE);
  eaudit_event_get(ev, EAUDIT_FIELD_CREDENTIAL, &cred);
  eaudit_event_get(ev, EAUDIT_FIELD_REASON, &reason);
  csv_cell(f, cred ? eaudit_credential_name((int)cred) : NULL, 0);
  csv_cell(f, reason ? eaudit_reason_name((int)reason) : NULL, 0);
  size_t dlen = 0;
  const char *d = eaudit_event_details(ev, &dlen);
  char *dz = NULL;
  if (d && dlen && (dz = malloc(dlen + 1)) != NULL) {
    memcpy(dz, d, dlen);
    dz[dlen] = 0;
  }
  csv_cell(f, dz, 0);
  free(dz);
  fputs("\r\n", f);
}

/* ---- table ---- */

/* Display width of UTF-8 text: code points (good enough for names). */
static size_t u8_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Write s in exactly w columns: cut with an ellipsis, or pad. */
static void cell(FILE *f, const char *s, size_t w, int last) {
  if (w == 0)
    return;
  size_t n = u8_width(s);
  if (n <= w) {
    fputs(s, f);
    if (!last)
      for (; n < w; n++)
        fputc(' ', f);
  } else {
    size_t cols = 0;
    const char *p = s;
    while (*p && cols < w - 1) {
      p++;
      while (((unsigned char)*p & 0xC0) == 0x80)
        p++;
      cols++;
    }
    fwrite(s, 1, (size_t)(p - s), f);
    fputs("\xe2\x80\xa6", f); /* ellipsis */
  }
  if (!last)
    fputs("  ", f);
}

typedef struct widths {
  size_t time, event, user, by, where, detail;
} widths;

static widths table_widths(int total) {
  widths w = {19, 30, 26, 20, 24, 0};
  if (total <= 0)
    total = 160;
  int rest = total - 19 - 10; /* five gaps of two spaces */
  if (rest < 40)
    rest = 40;
  /* Shares of what is left; the detail column takes the remainder. */
  size_t ev = (size_t)rest * 26 / 100, us = (size_t)rest * 24 / 100,
         by = (size_t)rest * 16 / 100, wh = (size_t)rest * 20 / 100;
  w.event = ev < 30 ? ev : 30;
  w.user = us < 28 ? us : 28;
  w.by = by < 20 ? by : 20;
  w.where = wh < 26 ? wh : 26;
  int used = (int)(w.event + w.user + w.by + w.where);
  w.detail = rest > used ? (size_t)(rest - used) : 0;
  return w;
}

static void who(char *buf, size_t size, const char *name, int64_t id) {
  if (name && *name)
    snprintf(buf, size, "%s (%" PRId64 ")", name, id);
  else
    snprintf(buf, size, "#%" PRId64, id);
}

static void table_row(out_writer *w, eaudit_cursor *cur,
                      const eaudit_event *ev) {
  widths wd = table_widths(w->width);
  char t[EAUDIT_TIME_STRMAX], user[256] = "", by[256] = "", where[256] = "",
       detail[512] = "";
  int64_t at = 0, type = 0, subj, actor, id, cred = 0, reason = 0;
  eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &at);
  eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &type);
  eaudit_store_format_time(w->store, at, EAUDIT_TIME_LOCAL, t, sizeof t);
  const char *label = eaudit_store_type_label(w->store, (int)type);
  char lbuf[32];
  if (label == NULL) {
    snprintf(lbuf, sizeof lbuf, "type %" PRId64, type);
    label = lbuf;
  }
  int has_subj = eaudit_event_get(ev, EAUDIT_FIELD_SUBJECT, &subj) == 0;
  if (has_subj)
    who(user, sizeof user, cur ? eaudit_cursor_name(cur, EAUDIT_FIELD_SUBJECT)
                               : NULL, subj);
  if (eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &actor) == 0 &&
      (!has_subj || actor != subj))
    who(by, sizeof by, cur ? eaudit_cursor_name(cur, EAUDIT_FIELD_ACTOR) : NULL,
        actor);
  static const struct {
    int field;
    const char *kind;
  } places[] = {{EAUDIT_FIELD_DOOR, "door"},
                {EAUDIT_FIELD_GROUP, "group"},
                {EAUDIT_FIELD_DEVICE, "device"}};
  size_t wl = 0;
  for (size_t i = 0; i < 3; i++)
    if (eaudit_event_get(ev, places[i].field, &id) == 0) {
      const char *n = cur ? eaudit_cursor_name(cur, places[i].field) : NULL;
      int k = n && *n ? snprintf(where + wl, sizeof where - wl, "%s%s",
                                 wl ? ", " : "", n)
                      : snprintf(where + wl, sizeof where - wl,
                                 "%s%s %" PRId64, wl ? ", " : "",
                                 places[i].kind, id);
      if (k > 0 && (size_t)k < sizeof where - wl)
        wl += (size_t)k;
    }
  eaudit_event_get(ev, EAUDIT_FIELD_CREDENTIAL, &cred);
  eaudit_event_get(ev, EAUDIT_FIELD_REASON, &reason);
  if (reason && eaudit_reason_label((int)reason))
    snprintf(detail, sizeof detail, "%s", eaudit_reason_label((int)reason));
  if (cred && eaudit_credential_label((int)cred)) {
    size_t dl = strlen(detail);
    snprintf(detail + dl, sizeof detail - dl, "%s%s", dl ? "; " : "",
             eaudit_credential_label((int)cred));
  }
  cell(w->f, t, wd.time, 0);
  cell(w->f, label, wd.event, 0);
  cell(w->f, user, wd.user, 0);
  cell(w->f, by, wd.by, 0);
  cell(w->f, where, wd.where, wd.detail == 0);
  if (wd.detail)
    cell(w->f, detail, wd.detail, 1);
  fputc('\n', w->f);
}

void out_begin(out_writer *w) {
  w->count = 0;
  if (w->format == OUT_JSON)
    fputs("[", w->f);
  else if (w->format == OUT_CSV)
    fputs("seq,id,occurred_at,local_time,type,label,subject,subject_name,"
          "actor,actor_name,door,door_name,group,group_name,device,"
          "device_name,site,credential,reason,details\r\n",
          w->f);
}

int out_event(out_writer *w, eaudit_cursor *cur, const eaudit_event *ev) {
  switch (w->format) {
  case OUT_TABLE:
    if (w->count == 0) {
      widths wd = table_widths(w->width);
      cell(w->f, "TIME", wd.time, 0);
      cell(w->f, "EVENT", wd.event, 0);
      cell(w->f, "USER", wd.user, 0);
      cell(w->f, "BY", wd.by, 0);
      cell(w->f, "WHERE", wd.where, wd.detail == 0);
      if (wd.detail)
        cell(w->f, "DETAIL", wd.detail, 1);
      fputc('\n', w->f);
    }
    table_row(w, cur, ev);
    break;
  case OUT_JSON:
    fputs(w->count ? ",\n" : "\n", w->f);
    if (out_event_object(w->f, w->store, w->with_names ? cur : NULL, ev,
                         w->with_store_fields))
      return -1;
    break;
  case OUT_JSONL:
    if (out_event_object(w->f, w->store, w->with_names ? cur : NULL, ev,
                         w->with_store_fields))
      return -1;
    fputc('\n', w->f);
    break;
  case OUT_CSV:
    csv_row(w, cur, ev);
    break;
  }
  w->count++;
  return ferror(w->f) ? -1 : 0;
}

void out_end(out_writer *w) {
  if (w->format == OUT_JSON)
    fputs(w->count ? "\n]\n" : "]\n", w->f);
}
