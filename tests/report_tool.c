/* Writes the fixture's reports into a directory, for
 * tests/python/test_report_formats.py:
 *   report_tool DIR  ->  DIR/report.csv, report-raw.csv (no neutralising
 *                        prefix), report.json, report.html, export.jsonl */
#include "report_fixture.h"

static void write_one(eaudit_store *s, const char *dir, const char *name,
                      int format, int neutralize) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL) {
    perror(path);
    exit(2);
  }
  RF_CHECK(rf_report(s, format, neutralize, fp));
  if (fclose(fp) != 0) {
    perror(path);
    exit(2);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  rf_state st;
  eaudit_store *s = rf_open(":memory:", &st);
  write_one(s, argv[1], "report.csv", EAUDIT_FORMAT_CSV, 1);
  write_one(s, argv[1], "report-raw.csv", EAUDIT_FORMAT_CSV, 0);
  write_one(s, argv[1], "report.json", EAUDIT_FORMAT_JSON, 1);
  write_one(s, argv[1], "report.html", EAUDIT_FORMAT_HTML, 1);
  write_one(s, argv[1], "report.jsonl", EAUDIT_FORMAT_JSONL, 1);
  eaudit_store_free(s);
  return 0;
}
