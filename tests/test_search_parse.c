/* The free-text parser: dates, times of day, label phrases and names. */
#include "testutil.h"

#include "internal.h"
#include "timeexpr.h"

#include <stdio.h>
#include <string.h>

static const struct {
  int code;
  const char *label;
} builtin[] = {
#define LABEL(e, code, name, label) {code, label},
    EAUDIT_EVENT_TYPES(LABEL)
#undef LABEL
};

static int labels(void *payload, size_t i, int *code, const char **label) {
  (void)payload;
  if (i >= sizeof builtin / sizeof *builtin)
    return EAUDIT_DONE;
  *code = builtin[i].code;
  *label = builtin[i].label;
  return 0;
}

static int failing_labels(void *payload, size_t i, int *code,
                          const char **label) {
  (void)payload;
  (void)i;
  (void)code;
  (void)label;
  return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_CALLBACK, 0, "boom");
}

static eaudit__tz *tz;
/* Friday 20 November 2026, 12:00 CET. */
static const eaudit_time now = INT64_C(1795172400000000);

static void setup(void) {
  ck_assert_int_eq(now, tu_utc(2026, 11, 20, 11, 0, 0));
  EA_OK(eaudit__tz_open(&tz, "Europe/Berlin"));
}

static void teardown(void) { eaudit__tz_free(tz); }

static void parse(const char *text, eaudit__search *s) {
  int rc = eaudit__search_parse(tz, text, now, labels, NULL, s);
  ck_assert_msg(rc == 0, "%s -> %d (%s)", text, rc,
                eaudit_error_last()->message);
}

/* Local midnight starting y-m-d in Berlin. */
static eaudit_time midnight(int y, int m, int d) {
  eaudit__civil c = {.year = y, .month = m, .day = d};
  eaudit_time t;
  EA_OK(eaudit__tz_from_civil(tz, &c, &t));
  return t;
}

static void expect_day(const char *text, int y, int m, int d) {
  eaudit__search s;
  parse(text, &s);
  ck_assert_msg(s.has_interval, "%s: no interval", text);
  ck_assert_msg(s.since == midnight(y, m, d) &&
                    s.until == midnight(y, m, d + 1),
                "%s: wrong day", text);
  ck_assert_msg(s.n_tod == 0 && s.n_type_sets == 0 && s.n_words == 0,
                "%s: left-over parts", text);
  eaudit__search_clear(&s);
}

/* Asserts that set i holds exactly the given codes, in any order. */
static void expect_set(const eaudit__search *s, int i, int n,
                       const int *codes) {
  ck_assert_int_eq(s->type_set_len[i], n);
  for (int k = 0; k < n; k++) {
    int found = 0;
    for (int j = 0; j < n; j++)
      found |= s->type_sets[i][j] == codes[k];
    ck_assert_msg(found, "set %d lacks %d", i, codes[k]);
  }
}

START_TEST(empty_text_gives_nothing) {
  eaudit__search s;
  const eaudit__search zero = {0};
  parse("", &s);
  ck_assert_mem_eq(&s, &zero, sizeof s);
  EA_OK(eaudit__search_parse(tz, NULL, now, labels, NULL, &s));
  ck_assert_mem_eq(&s, &zero, sizeof s);
  parse("  ,  ", &s);
  ck_assert_mem_eq(&s, &zero, sizeof s);
  eaudit__search_clear(&s);
  eaudit__search_clear(NULL);
}
END_TEST

START_TEST(dates_in_every_spelling_mean_that_day) {
  const char *same[] = {"2026-11-03",      "Nov 3",      "3 Nov",
                        "November 3",      "3 november", "NOV 3",
                        "3 November 2026", "Nov 3 2026", "nov 03, 2026",
                        "  3   Nov  "};
  for (size_t i = 0; i < sizeof same / sizeof *same; i++)
    expect_day(same[i], 2026, 11, 3);
  expect_day("Sept 9", 2026, 9, 9);
  expect_day("sep 9", 2026, 9, 9);
  expect_day("May 1 2020", 2020, 5, 1);
  /* Across the spring DST change the day is 23 hours. */
  expect_day("29 March 2026", 2026, 3, 29);
}
END_TEST

START_TEST(nov_3_never_matches_the_13th) {
  eaudit__search s;
  parse("Nov 3", &s);
  eaudit_time the_13th = midnight(2026, 11, 13) + INT64_C(12) * 3600 * 1000000;
  ck_assert(!(s.since <= the_13th && the_13th < s.until));
  ck_assert_int_eq(s.until - s.since, INT64_C(24) * 3600 * 1000000);
  parse("Nov 13", &s);
  ck_assert(s.since <= the_13th && the_13th < s.until);
  /* "Nov 3" does not read the 3 off "13" or "3rd". */
  parse("Nov 3rd", &s);
  ck_assert_int_eq(s.has_interval, 0);
  ck_assert_int_eq(s.n_words, 2);
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(dates_without_a_year_are_the_latest_one_begun) {
  expect_day("Nov 20", 2026, 11, 20); /* today has begun */
  expect_day("Nov 21", 2025, 11, 21); /* tomorrow has not */
  expect_day("Dec 25", 2025, 12, 25);
  expect_day("Feb 29", 2024, 2, 29);
  expect_day("Jan 1", 2026, 1, 1);
}
END_TEST

START_TEST(impossible_dates_are_words) {
  eaudit__search s;
  parse("Feb 30", &s);
  ck_assert_int_eq(s.has_interval, 0);
  ck_assert_int_eq(s.n_words, 2);
  ck_assert_str_eq(s.words[0], "feb");
  ck_assert_str_eq(s.words[1], "30");
  eaudit__search_clear(&s);
  parse("Feb 29 2026", &s);
  ck_assert_int_eq(s.has_interval, 0);
  eaudit__search_clear(&s);
  parse("2026-02-29", &s);
  ck_assert_int_eq(s.has_interval, 0);
  ck_assert_str_eq(s.words[0], "2026-02-29");
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(two_dates_intersect) {
  eaudit__search s;
  parse("Nov 3 Nov 4", &s);
  ck_assert_int_eq(s.has_interval, 1);
  ck_assert(s.since >= s.until);
  parse("2026-11-03 3 Nov", &s);
  ck_assert_int_eq(s.since, midnight(2026, 11, 3));
  ck_assert_int_eq(s.until, midnight(2026, 11, 4));
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(times_are_a_minute_or_an_hour) {
  eaudit__search s;
  parse("14:05", &s);
  ck_assert_int_eq(s.n_tod, 1);
  ck_assert_int_eq(s.tod_from[0], 845);
  ck_assert_int_eq(s.tod_to[0], 846);
  parse("14:", &s);
  ck_assert_int_eq(s.tod_from[0], 840);
  ck_assert_int_eq(s.tod_to[0], 900);
  parse("14:05:09", &s);
  ck_assert_int_eq(s.tod_from[0], 845);
  ck_assert_int_eq(s.tod_to[0], 846);
  parse("9:30 0:", &s);
  ck_assert_int_eq(s.n_tod, 2);
  ck_assert_int_eq(s.tod_from[0], 570);
  ck_assert_int_eq(s.tod_from[1], 0);
  ck_assert_int_eq(s.tod_to[1], 60);
  parse("24:00 14:60 14:5 :05 14:05:60", &s);
  ck_assert_int_eq(s.n_tod, 0);
  ck_assert_int_eq(s.n_words, 5);
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(label_phrases_become_type_sets) {
  eaudit__search s;
  parse("door opened", &s);
  ck_assert_int_eq(s.n_type_sets, 1);
  expect_set(&s, 0, 1, (int[]){EAUDIT_TYPE_DOOR_OPENED});
  ck_assert_int_eq(s.n_words, 0);
  eaudit__search_clear(&s);
  parse("Keycard", &s);
  expect_set(
      &s, 0, 2,
      (int[]){EAUDIT_TYPE_KEYCARD_ADDED, EAUDIT_TYPE_KEYCARD_ADD_FAILED});
  eaudit__search_clear(&s);
  parse("door open", &s);
  ck_assert_int_eq(s.n_type_sets, 1);
  expect_set(&s, 0, 2,
             (int[]){EAUDIT_TYPE_DOOR_OPENED, EAUDIT_TYPE_DOOR_OPEN_FAILED});
  eaudit__search_clear(&s);
  parse("DOOR OPEN ATTEMPT", &s);
  expect_set(&s, 0, 1, (int[]){EAUDIT_TYPE_DOOR_OPEN_FAILED});
  eaudit__search_clear(&s);
  /* "permissions" is in two labels; "expired" narrows it in one phrase. */
  parse("permissions expired", &s);
  ck_assert_int_eq(s.n_type_sets, 1);
  expect_set(&s, 0, 1, (int[]){EAUDIT_TYPE_PERMISSIONS_EXPIRED});
  eaudit__search_clear(&s);
  /* Words must follow each other in the label: two phrases, AND-ed. */
  parse("opened door", &s);
  ck_assert_int_eq(s.n_type_sets, 2);
  expect_set(&s, 0, 1, (int[]){EAUDIT_TYPE_DOOR_OPENED});
  expect_set(&s, 1, 2,
             (int[]){EAUDIT_TYPE_DOOR_OPENED, EAUDIT_TYPE_DOOR_OPEN_FAILED});
  eaudit__search_clear(&s);
  /* A label word only matches from its start. */
  parse("pened", &s);
  ck_assert_int_eq(s.n_type_sets, 0);
  ck_assert_int_eq(s.n_words, 1);
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(other_words_are_lower_cased_names) {
  eaudit__search s;
  parse("Alice door opened BOB J\xc3\xb6rg", &s);
  ck_assert_int_eq(s.n_type_sets, 1);
  expect_set(&s, 0, 1, (int[]){EAUDIT_TYPE_DOOR_OPENED});
  ck_assert_int_eq(s.n_words, 3);
  ck_assert_str_eq(s.words[0], "alice");
  ck_assert_str_eq(s.words[1], "bob");
  ck_assert_str_eq(s.words[2], "j\xc3\xb6rg");
  eaudit__search_clear(&s);
  /* Without labels every word is a name. */
  EA_OK(eaudit__search_parse(tz, "door opened", now, NULL, NULL, &s));
  ck_assert_int_eq(s.n_type_sets, 0);
  ck_assert_int_eq(s.n_words, 2);
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(quoted_phrases_are_one_name) {
  eaudit__search s;
  parse("\"Door Opened\" keycard", &s);
  ck_assert_int_eq(s.n_words, 1);
  ck_assert_str_eq(s.words[0], "door opened");
  ck_assert_int_eq(s.n_type_sets, 1);
  eaudit__search_clear(&s);
  parse("\"Nov 3\" \"14:05\"", &s);
  ck_assert_int_eq(s.has_interval, 0);
  ck_assert_int_eq(s.n_tod, 0);
  ck_assert_int_eq(s.n_words, 2);
  ck_assert_str_eq(s.words[1], "14:05");
  eaudit__search_clear(&s);
  /* An unclosed quote runs to the end; an empty one is nothing. */
  parse("\"\" x\"Anna  Maria", &s);
  ck_assert_int_eq(s.n_words, 2);
  ck_assert_str_eq(s.words[0], "x");
  ck_assert_str_eq(s.words[1], "anna  maria");
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(everything_at_once) {
  eaudit__search s;
  parse("3 Nov 14:05 door opened alice, 14:", &s);
  ck_assert_int_eq(s.since, midnight(2026, 11, 3));
  ck_assert_int_eq(s.n_tod, 2);
  ck_assert_int_eq(s.n_type_sets, 1);
  ck_assert_int_eq(s.n_words, 1);
  ck_assert_str_eq(s.words[0], "alice");
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(too_many_parts_are_refused) {
  char text[512] = "";
  for (int i = 0; i <= EAUDIT__SEARCH_MAX_PARTS; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "name%d ", i);
  eaudit__search s;
  ck_assert_int_eq(eaudit__search_parse(tz, text, now, labels, NULL, &s),
                   EAUDIT_ETOOBIG);
  ck_assert_int_eq(s.n_words, 0); /* nothing left to free */
  text[0] = '\0';
  for (int i = 0; i <= EAUDIT__SEARCH_MAX_PARTS; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "%d: ", i);
  ck_assert_int_eq(eaudit__search_parse(tz, text, now, labels, NULL, &s),
                   EAUDIT_ETOOBIG);
  text[0] = '\0';
  for (int i = 0; i <= EAUDIT__SEARCH_MAX_PARTS; i++)
    strcat(text, "keycard 1 ");
  ck_assert_int_eq(eaudit__search_parse(tz, text, now, labels, NULL, &s),
                   EAUDIT_ETOOBIG);
  ck_assert_int_eq(s.n_type_sets, 0);
  /* Exactly the limit is fine. */
  text[0] = '\0';
  for (int i = 0; i < EAUDIT__SEARCH_MAX_PARTS; i++)
    strcat(text, "keycard x ");
  parse(text, &s);
  ck_assert_int_eq(s.n_type_sets, EAUDIT__SEARCH_MAX_PARTS);
  ck_assert_int_eq(s.n_words, EAUDIT__SEARCH_MAX_PARTS);
  eaudit__search_clear(&s);
}
END_TEST

START_TEST(bad_utf8_is_refused) {
  eaudit__search s;
  ck_assert_int_eq(eaudit__search_parse(tz, "caf\xe9", now, labels, NULL, &s),
                   EAUDIT_EUTF8);
  ck_assert_int_eq(eaudit__search_parse(tz, "ok \xc3", now, labels, NULL, &s),
                   EAUDIT_EUTF8);
  ck_assert_int_eq(
      eaudit__search_parse(tz, "\xed\xa0\x80", now, labels, NULL, &s),
      EAUDIT_EUTF8);
}
END_TEST

START_TEST(label_callback_errors_pass_through) {
  eaudit__search s;
  ck_assert_int_eq(
      eaudit__search_parse(tz, "alice", now, failing_labels, NULL, &s),
      EAUDIT_ERROR);
  ck_assert_str_eq(eaudit_error_last()->message, "boom");
  ck_assert_int_eq(s.n_words, 0);
  /* Dates and times never ask for labels. */
  EA_OK(eaudit__search_parse(tz, "Nov 3 14:05", now, failing_labels, NULL, &s));
  eaudit__search_clear(&s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("search_parse");
  TCase *tc = tcase_create("search_parse");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, empty_text_gives_nothing);
  tcase_add_test(tc, dates_in_every_spelling_mean_that_day);
  tcase_add_test(tc, nov_3_never_matches_the_13th);
  tcase_add_test(tc, dates_without_a_year_are_the_latest_one_begun);
  tcase_add_test(tc, impossible_dates_are_words);
  tcase_add_test(tc, two_dates_intersect);
  tcase_add_test(tc, times_are_a_minute_or_an_hour);
  tcase_add_test(tc, label_phrases_become_type_sets);
  tcase_add_test(tc, other_words_are_lower_cased_names);
  tcase_add_test(tc, quoted_phrases_are_one_name);
  tcase_add_test(tc, everything_at_once);
  tcase_add_test(tc, too_many_parts_are_refused);
  tcase_add_test(tc, bad_utf8_is_refused);
  tcase_add_test(tc, label_callback_errors_pass_through);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
