/* Device recognition: the decision table row by row for both kinds, as a
 * table of scenarios with attributes taken from real browsers and phones;
 * a simulated year of a normal mobile user and of an abuser; persistence,
 * the devices list, the histogram and argument checks. */
#include "testutil.h"

#include "devices_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define HOUR ((eaudit_time)3600 * 1000000)
#define DAY (24 * HOUR)
#define NA 12

enum { K = EAUDIT_DEVATTR_KEY, PLAT, OS, OSV, BF, BV, MODEL, SCREEN, TZ, LANG, IP };

/* Real attribute sets. The admin model is the WebGL renderer string. */
static const char *const WIN_CHROME[NA] = {
    [K] = "ck_2f9a61c07e", [PLAT] = "Windows", [OS] = "Windows",
    [OSV] = "10.0.0", [BF] = "Chrome", [BV] = "120.0.6099.130",
    [MODEL] = "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 "
              "ps_5_0, D3D11)",
    [SCREEN] = "2560x1440", [TZ] = "Europe/Berlin", [LANG] = "de-DE",
    [IP] = "203.0.113.24"};
static const char *const MAC_SAFARI[NA] = {
    [K] = "ck_88d0e4b1a3", [PLAT] = "macOS", [OS] = "macOS",
    [OSV] = "10.15.7", [BF] = "Safari", [BV] = "17.2",
    [MODEL] = "Apple GPU", [SCREEN] = "1512x982", [TZ] = "Europe/Berlin",
    [LANG] = "en-US", [IP] = "203.0.113.24"};
static const char *const IPHONE[NA] = {
    [K] = "6D1F0B7E-3C2A-4E8B-9A41-0F3C5B7D2E19", [PLAT] = "iPhone",
    [OS] = "iOS", [OSV] = "17.2.1", [BF] = "Entryfy", [BV] = "3.4.0",
    [MODEL] = "iPhone15,2", [SCREEN] = "1179x2556", [TZ] = "Europe/Berlin",
    [LANG] = "de-DE", [IP] = "100.72.14.9"};
static const char *const PIXEL[NA] = {
    [K] = "c5d2f7a1903b4e6f", [PLAT] = "Android", [OS] = "Android",
    [OSV] = "14", [BF] = "Entryfy", [BV] = "3.4.0", [MODEL] = "Pixel 8",
    [SCREEN] = "1080x2400", [TZ] = "Europe/London", [LANG] = "en-GB",
    [IP] = "81.2.69.160"};

#define UNSET "" /* an override that removes the attribute */

typedef struct ovr {
  int attr;
  const char *value;
} ovr;

typedef struct step {
  int64_t user;
  int kind;
  const char *const *base;
  ovr ov[6];
  int decision, reason, recorded;
} step;

typedef struct scenario {
  const char *name;
  step steps[6];
} scenario;

#define A EAUDIT_DEVICE_ADMIN_WEB
#define M EAUDIT_DEVICE_MOBILE
#define KNOWN EAUDIT_DEVICE_KNOWN
#define NEW EAUDIT_DEVICE_NEW
#define CHANGED EAUDIT_DEVICE_CHANGED
#define R(x) EAUDIT_REASON_##x
#define FIRST(u, k, b) {u, k, b, {{0}}, NEW, R(FIRST_SEEN), 1}
#define SAME(u, k, b) {u, k, b, {{0}}, KNOWN, R(NONE), 0}

static const scenario scenarios[] = {
    /* Row 1: no device of this kind yet. */
    {"admin: first entry", {FIRST(1, A, WIN_CHROME)}},
    {"mobile: first login", {FIRST(1, M, IPHONE)}},
    {"admin: first entry although the user has a phone",
     {FIRST(1, M, IPHONE), FIRST(1, A, WIN_CHROME)}},
    /* Row 2: matching key or attributes, same versions. */
    {"admin: routine entry", {FIRST(1, A, WIN_CHROME), SAME(1, A, WIN_CHROME)}},
    {"mobile: routine login", {FIRST(1, M, IPHONE), SAME(1, M, IPHONE)}},
    {"admin: same browser, no cookie sent, attributes match",
     {FIRST(1, A, MAC_SAFARI),
      {1, A, MAC_SAFARI, {{K, UNSET}}, KNOWN, R(NONE), 0}}},
    {"mobile: vendor sends no install id, attributes match",
     {FIRST(1, M, PIXEL), {1, M, PIXEL, {{K, UNSET}}, KNOWN, R(NONE), 0}}},
    {"mobile: the phone turned to landscape",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{SCREEN, "2556x1179"}}, KNOWN, R(NONE), 0}}},
    /* Row 3: browser version changed. */
    {"admin: Chrome updated",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{BV, "121.0.6167.85"}}, KNOWN, R(BROWSER_UPDATED), 0},
      {1, A, WIN_CHROME, {{BV, "121.0.6167.85"}}, KNOWN, R(NONE), 0}}},
    {"admin: Chrome updated and the cookie cleared",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{BV, "121.0.6167.85"}, {K, UNSET}}, KNOWN,
       R(BROWSER_UPDATED), 0}}},
    {"mobile: app updated (browser slot)",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{BV, "3.5.1"}}, KNOWN, R(BROWSER_UPDATED), 0}}},
    /* Row 4: OS version changed. */
    {"admin: Windows 10 to 11 (UA-CH platform version)",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{OSV, "15.0.0"}}, KNOWN, R(OS_UPDATED), 0},
      {1, A, WIN_CHROME, {{OSV, "15.0.0"}}, KNOWN, R(NONE), 0}}},
    {"mobile: iOS 17.2.1 to 17.3",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{OSV, "17.3"}}, CHANGED, R(OS_UPDATED), 1},
      {1, M, IPHONE, {{OSV, "17.3"}}, KNOWN, R(NONE), 0}}},
    {"mobile: Android 14 to 15, install id kept",
     {FIRST(1, M, PIXEL),
      {1, M, PIXEL, {{OSV, "15"}}, CHANGED, R(OS_UPDATED), 1}}},
    /* Row 5: other browser on the same hardware. */
    {"admin: Edge on the PC that runs Chrome",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{K, "ck_e1d93b0f22"}, {BF, "Edge"},
                          {BV, "120.0.2210.91"}},
       NEW, R(NEW_BROWSER), 1},
      SAME(1, A, WIN_CHROME)}},
    {"admin: Chrome on the Mac that runs Safari",
     {FIRST(1, A, MAC_SAFARI),
      {1, A, MAC_SAFARI, {{K, UNSET}, {BF, "Chrome"}, {BV, "120.0.6099.129"}},
       NEW, R(NEW_BROWSER), 1}}},
    /* Row 6: different OS family. */
    {"admin: a Mac after a Windows PC",
     {FIRST(1, A, WIN_CHROME), {1, A, MAC_SAFARI, {{0}}, NEW, R(NEW_OS), 1}}},
    {"mobile: an Android phone after an iPhone",
     {FIRST(1, M, IPHONE), {1, M, PIXEL, {{0}}, NEW, R(NEW_OS), 1},
      SAME(1, M, IPHONE), SAME(1, M, PIXEL)}},
    /* Row 7: no match. */
    {"admin: another Windows laptop with Chrome",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{K, "ck_41c7aa90d5"},
                          {MODEL, "ANGLE (Intel, Intel(R) UHD Graphics 620 "
                                  "Direct3D11 vs_5_0 ps_5_0, D3D11)"},
                          {SCREEN, "1920x1080"}, {LANG, "en-US"}},
       NEW, R(NEW_HARDWARE), 1}}},
    {"mobile: a new iPhone model",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{K, "0A6C2E4F-1B3D-4F5A-8C7E-9D0B1A2C3E4F"},
                      {MODEL, "iPhone16,1"}, {SCREEN, "1179x2556"}},
       NEW, R(NEW_HARDWARE), 1}}},
    /* Row 8: same model and attributes, new install id. */
    {"mobile: app reinstalled / phone reset",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{K, "9E8D7C6B-5A49-4382-A1B0-C9D8E7F6A5B4"}}, CHANGED,
       R(DEVICE_RESET), 1},
      {1, M, IPHONE, {{K, "9E8D7C6B-5A49-4382-A1B0-C9D8E7F6A5B4"}}, KNOWN,
       R(NONE), 0}}},
    /* Row 9: cleared cookie, attributes match: key re-learned. */
    {"admin: cookie cleared, new cookie issued",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{K, "ck_new0000001"}}, KNOWN, R(NONE), 0},
      {1, A, WIN_CHROME, {{K, "ck_new0000001"}, {IP, "192.0.2.200"},
                          {TZ, "Europe/Paris"}, {SCREEN, "1920x1080"}},
       KNOWN, R(NONE), 0}}},
    /* Beyond the table. */
    {"admin: the same laptop on another network, cookie kept",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{IP, "198.51.100.77"}, {TZ, "Europe/Lisbon"}},
       KNOWN, R(NONE), 0}}},
    {"admin: the same laptop on another network, no cookie",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{K, UNSET}, {IP, "198.51.100.77"}}, KNOWN, R(NONE),
       0}}},
    {"mobile: cellular then Wi-Fi",
     {FIRST(1, M, PIXEL),
      {1, M, PIXEL, {{IP, "2001:db8:85a3::8a2e:370:7334"}}, KNOWN, R(NONE), 0}}},
    {"admin: two users sharing one PC",
     {FIRST(1, A, WIN_CHROME), FIRST(2, A, WIN_CHROME),
      SAME(1, A, WIN_CHROME), SAME(2, A, WIN_CHROME)}},
    {"mobile: two users sharing one phone",
     {FIRST(1, M, PIXEL), FIRST(2, M, PIXEL), SAME(2, M, PIXEL)}},
    {"mobile: restored from backup onto new hardware (key copied)",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{MODEL, "iPhone16,2"}, {SCREEN, "1290x2796"},
                      {OSV, "17.3"}},
       NEW, R(NEW_HARDWARE), 1},
      SAME(1, M, IPHONE)}},
    {"mobile: attacker copies the install id onto another iPhone model",
     {FIRST(1, M, IPHONE),
      {1, M, IPHONE, {{MODEL, "iPhone14,5"}, {SCREEN, "1170x2532"},
                      {LANG, "en-US"}, {IP, "45.134.212.9"}},
       NEW, R(NEW_HARDWARE), 1},
      SAME(1, M, IPHONE)}},
    {"mobile: attacker copies the install id onto an Android emulator",
     {FIRST(1, M, IPHONE),
      {1, M, PIXEL, {{K, "6D1F0B7E-3C2A-4E8B-9A41-0F3C5B7D2E19"},
                     {MODEL, "sdk_gphone64_x86_64"}},
       NEW, R(NEW_OS), 1}}},
    {"admin: attacker copies the cookie into Firefox on Linux",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{PLAT, "Linux x86_64"}, {OS, "Linux"}, {OSV, UNSET},
                          {BF, "Firefox"}, {BV, "121.0"},
                          {MODEL, "llvmpipe"}},
       NEW, R(NEW_OS), 1}}},
    {"admin: attacker copies the cookie to another Windows PC",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{MODEL, "ANGLE (AMD, AMD Radeon RX 6600 Direct3D11 "
                                  "vs_5_0 ps_5_0, D3D11)"},
                          {SCREEN, "1920x1080"}, {IP, "185.220.101.4"}},
       NEW, R(NEW_HARDWARE), 1}}},
    {"admin: attributes in another case are the same device",
     {FIRST(1, A, WIN_CHROME),
      {1, A, WIN_CHROME, {{K, UNSET}, {OS, "WINDOWS"}, {BF, "chrome"}}, KNOWN,
       R(NONE), 0}}},
};

static eaudit_device_info *info_of(const step *st) {
  eaudit_device_info *info = NULL;
  EA_OK(eaudit_device_info_new(&info));
  for (int a = 1; a < NA; a++)
    EA_OK(eaudit_device_info_set_str(info, a, st->base[a]));
  for (int i = 0; i < 6 && st->ov[i].attr; i++)
    EA_OK(eaudit_device_info_set_str(
        info, st->ov[i].attr, st->ov[i].value[0] ? st->ov[i].value : NULL));
  return info;
}

/* A fresh store of the backend under test (tests/testutil.h). */
static eaudit_store *open_opts(const eaudit_options *o) {
  eaudit_store *s = NULL;
  EA_OK(tu_store_open(&s, "devices", o));
  return s;
}

static eaudit_store *open_mem(tu_clock *clock, uint64_t *seed) {
  eaudit_options *o = tu_options(clock, seed);
  eaudit_store *s = open_opts(o);
  eaudit_options_free(o);
  return s;
}

static int64_t count(eaudit_store *s) {
  int64_t n = -1;
  EA_OK(eaudit_store_event_count(s, &n));
  return n;
}

static eaudit_device_result *login(eaudit_store *s, const eaudit_device_info *i,
                                   int64_t user, int kind, eaudit_time at) {
  eaudit_device_result *r = NULL;
  if (kind == A)
    EA_OK(eaudit_store_admin_login(s, i, user, at, &r));
  else
    EA_OK(eaudit_store_mobile_login(s, i, user, at, &r));
  return r;
}

/* The stored event of seq: type, subject, actor, device, reason,
 * credential. */
static void check_event(eaudit_store *s, int64_t seq, int kind, int64_t user,
                        int64_t device, int reason) {
  eaudit_cursor *cur = NULL;
  const eaudit_event *ev = NULL;
  EA_OK(eaudit_store_tail(s, seq - 1, 1, &cur));
  EA_OK(eaudit_cursor_next(cur, &ev));
  int64_t v;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &v));
  ck_assert_int_eq(v, kind == A ? EAUDIT_TYPE_ADMIN_AREA_LOGIN
                                : EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SUBJECT, &v));
  ck_assert_int_eq(v, user);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &v));
  ck_assert_int_eq(v, user);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_DEVICE, &v));
  ck_assert_int_eq(v, device);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_REASON, &v));
  ck_assert_int_eq(v, reason);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_CREDENTIAL, &v));
  ck_assert_int_eq(v, kind == M ? EAUDIT_CREDENTIAL_MOBILE
                                : EAUDIT_CREDENTIAL_NONE);
  eaudit_cursor_free(cur);
}

START_TEST(decision_table_scenarios) {
  const scenario *sc = &scenarios[_i];
  tu_clock clock = {tu_utc(2026, 3, 2, 8, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *s = open_mem(&clock, &seed);
  eaudit_time at = tu_utc(2026, 3, 2, 9, 0, 0);
  for (int i = 0; i < 6 && sc->steps[i].base; i++) {
    const step *st = &sc->steps[i];
    eaudit_device_info *info = info_of(st);
    int64_t before = count(s);
    eaudit_device_result *r = login(s, info, st->user, st->kind, at);
    ck_assert_msg(eaudit_device_result_decision(r) == st->decision &&
                      eaudit_device_result_reason(r) == st->reason,
                  "%s, step %d: decision %d reason %s (score %.3f), expected "
                  "%d %s",
                  sc->name, i, eaudit_device_result_decision(r),
                  eaudit_reason_name(eaudit_device_result_reason(r)),
                  eaudit_device_result_score(r), st->decision,
                  eaudit_reason_name(st->reason));
    ck_assert_int_eq(eaudit_device_result_record(r), st->recorded);
    ck_assert_int_eq(count(s) - before, st->recorded);
    ck_assert_int_eq(eaudit_device_result_seq(r) != 0, st->recorded);
    ck_assert_int_gt(eaudit_device_result_device(r), 0);
    if (st->recorded)
      check_event(s, eaudit_device_result_seq(r), st->kind, st->user,
                  eaudit_device_result_device(r), st->reason);
    eaudit_device_result_free(r);
    eaudit_device_info_free(info);
    at += HOUR;
  }
  eaudit_store_free(s);
}
END_TEST

START_TEST(scenario_table_is_large_enough) {
  ck_assert_int_ge(sizeof scenarios / sizeof scenarios[0], 25);
}
END_TEST

/* Key re-learned: after the cleared cookie, the new cookie alone finds the
 * device even when every attribute changed, and there is one device. */
START_TEST(cleared_cookie_relearns_the_key) {
  tu_clock clock = {tu_utc(2026, 3, 2, 8, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  step st = {1, A, WIN_CHROME, {{0}}, 0, 0, 0};
  eaudit_device_info *info = info_of(&st);
  eaudit_device_result *r = login(s, info, 1, A, clock.now);
  int64_t dev = eaudit_device_result_device(r);
  eaudit_device_result_free(r);
  EA_OK(eaudit_device_info_set_str(info, K, "ck_fresh"));
  r = login(s, info, 1, A, clock.now + HOUR);
  ck_assert_int_eq(eaudit_device_result_device(r), dev);
  eaudit_device_result_free(r);
  eaudit_device_info_clear(info);
  EA_OK(eaudit_device_info_set_str(info, K, "ck_fresh"));
  EA_OK(eaudit_device_info_set_str(info, SCREEN, "800x600"));
  r = login(s, info, 1, A, clock.now + 2 * HOUR);
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_device(r), dev);
  eaudit_device_result_free(r);
  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(s, 1, 0, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 1);
  int64_t times = 0;
  EA_OK(eaudit_devices_get(list, 0, NULL, NULL, NULL, NULL, NULL, &times));
  ck_assert_int_eq(times, 3);
  eaudit_devices_free(list);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

/* A normal year: daily logins, app updates every two weeks, an OS update
 * on the 10th of each month from February, the phone replaced on 20 June
 * by a newer model. Records: first_seen, 11 os_updated, 1 new_hardware. */
START_TEST(a_normal_year_records_thirteen) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 11;
  eaudit_store *s = open_mem(&clock, &seed);
  eaudit_device_info *info = NULL;
  EA_OK(eaudit_device_info_new(&info));
  for (int a = 1; a < NA; a++)
    EA_OK(eaudit_device_info_set_str(info, a, IPHONE[a]));
  static const char *const ips[] = {"100.72.14.9", "100.72.14.77",
                                    "192.168.178.23", "2a02:8070:a2c1::5f"};
  int minor = 2, app = 0, expected_counts[4] = {0};
  int64_t dev0 = 0;
  for (int d = 0; d < 365; d++) {
    eaudit_time at = tu_utc(2026, 1, 1, 7, 30, 0) + d * DAY;
    clock.now = at;
    eaudit__civil cv;
    EA_OK(eaudit__tz_to_civil(((struct eaudit_store *)s)->tz, at, &cv));
    char v[32];
    if (cv.day == 10 && cv.month >= 2) {
      snprintf(v, sizeof v, "17.%d", ++minor);
      EA_OK(eaudit_device_info_set_str(info, OSV, v));
    }
    if (d % 14 == 13) {
      snprintf(v, sizeof v, "3.%d.0", 4 + ++app);
      EA_OK(eaudit_device_info_set_str(info, BV, v));
    }
    if (cv.month == 6 && cv.day == 20) {
      EA_OK(eaudit_device_info_set_str(info, K,
                                       "F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9"));
      EA_OK(eaudit_device_info_set_str(info, MODEL, "iPhone16,2"));
      EA_OK(eaudit_device_info_set_str(info, SCREEN, "1290x2796"));
    }
    EA_OK(eaudit_device_info_set_str(info, IP, ips[d % 4]));
    eaudit_device_result *r = login(s, info, 42, M, at);
    int reason = eaudit_device_result_reason(r);
    if (d == 0) {
      ck_assert_int_eq(reason, R(FIRST_SEEN));
      dev0 = eaudit_device_result_device(r);
    }
    if (eaudit_device_result_record(r))
      expected_counts[reason == R(FIRST_SEEN)     ? 0
                      : reason == R(OS_UPDATED)   ? 1
                      : reason == R(NEW_HARDWARE) ? 2
                                                  : 3]++;
    eaudit_device_result_free(r);
  }
  ck_assert_int_eq(count(s), 13);
  ck_assert_int_eq(expected_counts[0], 1);
  ck_assert_int_eq(expected_counts[1], 11);
  ck_assert_int_eq(expected_counts[2], 1);
  ck_assert_int_eq(expected_counts[3], 0);
  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(s, 42, M, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 2);
  int64_t id, times0, times1;
  EA_OK(eaudit_devices_get(list, 0, &id, NULL, NULL, NULL, NULL, &times0));
  ck_assert_int_eq(id, dev0);
  EA_OK(eaudit_devices_get(list, 1, NULL, NULL, NULL, NULL, NULL, &times1));
  ck_assert_int_eq(times0 + times1, 365);
  ck_assert_str_eq(eaudit_devices_attr(list, 1, MODEL), "iPhone16,2");
  eaudit_devices_free(list);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

/* An abuser: every day a fresh device, alternating a factory-reset phone
 * of the same model (device_reset) and a new emulator (new_hardware). */
START_TEST(an_abuser_records_one_per_day) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  eaudit_device_info *info = NULL;
  EA_OK(eaudit_device_info_new(&info));
  for (int d = 0; d < 60; d++) {
    eaudit_device_info_clear(info);
    for (int a = 1; a < NA; a++)
      EA_OK(eaudit_device_info_set_str(info, a, PIXEL[a]));
    char v[64];
    snprintf(v, sizeof v, "%016x", 0x5eed0000u + (unsigned)d);
    EA_OK(eaudit_device_info_set_str(info, K, v));
    if (d % 2) {
      snprintf(v, sizeof v, "emulator-%d", d);
      EA_OK(eaudit_device_info_set_str(info, MODEL, v));
    }
    eaudit_time at = tu_utc(2026, 1, 1, 21, 0, 0) + d * DAY;
    eaudit_device_result *r = login(s, info, 666, M, at);
    ck_assert_int_eq(eaudit_device_result_record(r), 1);
    int want = d == 0       ? R(FIRST_SEEN)
               : d % 2      ? R(NEW_HARDWARE)
                            : R(DEVICE_RESET);
    ck_assert_int_eq(eaudit_device_result_reason(r), want);
    eaudit_device_result_free(r);
    ck_assert_int_eq(count(s), d + 1);
  }
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

START_TEST(decisions_survive_reopening) {
  char path[1024];
  tu_store_target(path, sizeof path, "devices-reopen");
  tu_clock clock = {tu_utc(2026, 5, 4, 8, 0, 0), 0};
  uint64_t seed = 3;
  eaudit_options *o = tu_options(&clock, &seed);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Europe/Berlin"));
  eaudit_store *s = NULL;
  EA_OK(eaudit_store_open(&s, path, o));
  step st = {1, M, IPHONE, {{0}}, 0, 0, 0};
  eaudit_device_info *info = info_of(&st);
  eaudit_device_result *r = login(s, info, 5, M, clock.now);
  int64_t dev = eaudit_device_result_device(r);
  eaudit_device_result_free(r);
  step wa = {1, A, WIN_CHROME, {{0}}, 0, 0, 0};
  eaudit_device_info *winfo = info_of(&wa);
  r = login(s, winfo, 5, A, tu_utc(2026, 5, 4, 7, 15, 0)); /* 09:15 local */
  eaudit_device_result_free(r);
  eaudit_store_free(s);

  EA_OK(eaudit_store_open(&s, path, o));
  r = login(s, info, 5, M, clock.now + DAY);
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_device(r), dev);
  eaudit_device_result_free(r);
  /* The install id alone still finds it. */
  eaudit_device_info_clear(info);
  EA_OK(eaudit_device_info_set_str(info, K, IPHONE[K]));
  r = login(s, info, 5, M, clock.now + 2 * DAY);
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_device(r), dev);
  eaudit_device_result_free(r);
  r = login(s, winfo, 5, A, tu_utc(2026, 5, 5, 7, 40, 0));
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  eaudit_device_result_free(r);
  int64_t hours[24];
  EA_OK(eaudit__login_hours(s, 5, hours));
  for (int h = 0; h < 24; h++)
    ck_assert_int_eq(hours[h], h == 9 ? 2 : 0);
  ck_assert_int_eq(count(s), 2);
  eaudit_device_info_free(info);
  eaudit_device_info_free(winfo);
  eaudit_store_free(s);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

/* Every admin observation counts, recorded or not; mobile ones do not. */
START_TEST(histogram_counts_every_admin_observation) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  eaudit_options *o = tu_options(&clock, NULL);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "America/New_York"));
  eaudit_store *s = open_opts(o);
  eaudit_options_free(o);
  step wa = {1, A, WIN_CHROME, {{0}}, 0, 0, 0};
  eaudit_device_info *info = info_of(&wa);
  for (int d = 0; d < 10; d++) {
    /* 14:00 UTC is 09:00 in New York in January. */
    eaudit_device_result *r =
        login(s, info, 9, A, tu_utc(2026, 1, 5, 14, 0, 0) + d * DAY);
    eaudit_device_result_free(r);
  }
  eaudit_device_result *r = NULL;
  EA_OK(eaudit_store_observe_device(s, info, 9, A,
                                    tu_utc(2026, 1, 20, 3, 30, 0), &r));
  ck_assert_int_eq(eaudit_device_result_seq(r), 0);
  eaudit_device_result_free(r);
  r = login(s, info, 9, M, tu_utc(2026, 1, 21, 3, 30, 0));
  eaudit_device_result_free(r);
  int64_t hours[24];
  EA_OK(eaudit__login_hours(s, 9, hours));
  for (int h = 0; h < 24; h++)
    ck_assert_int_eq(hours[h], h == 9 ? 10 : h == 22 ? 1 : 0);
  ck_assert_int_eq(count(s), 2); /* admin first_seen, mobile first_seen */
  EA_OK(eaudit__login_hours(s, 10, hours));
  ck_assert_int_eq(hours[9], 0);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

START_TEST(observe_writes_state_but_no_event) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  step st = {1, M, PIXEL, {{0}}, 0, 0, 0};
  eaudit_device_info *info = info_of(&st);
  eaudit_device_result *r = NULL;
  EA_OK(eaudit_store_observe_device(s, info, 3, M, clock.now, &r));
  ck_assert_int_eq(eaudit_device_result_decision(r), NEW);
  ck_assert_int_eq(eaudit_device_result_record(r), 1);
  ck_assert_int_eq(eaudit_device_result_seq(r), 0);
  eaudit_device_result_free(r);
  r = login(s, info, 3, M, clock.now + HOUR);
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert(eaudit_device_result_score(r) == 1.0);
  eaudit_device_result_free(r);
  ck_assert_int_eq(count(s), 0);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

START_TEST(list_rename_forget_and_forget_unseen) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  step a = {1, M, IPHONE, {{0}}, 0, 0, 0}, b = {1, M, PIXEL, {{0}}, 0, 0, 0},
       c = {1, A, MAC_SAFARI, {{0}}, 0, 0, 0};
  eaudit_device_info *ia = info_of(&a), *ib = info_of(&b), *ic = info_of(&c);
  eaudit_time t0 = tu_utc(2026, 1, 1, 9, 0, 0);
  eaudit_device_result *r = login(s, ia, 1, M, t0);
  int64_t d1 = eaudit_device_result_device(r);
  eaudit_device_result_free(r);
  r = login(s, ia, 1, M, t0 + 100 * DAY);
  eaudit_device_result_free(r);
  r = login(s, ib, 1, M, t0 + 10 * DAY);
  int64_t d2 = eaudit_device_result_device(r);
  eaudit_device_result_free(r);
  r = login(s, ic, 1, A, t0 + 20 * DAY);
  int64_t d3 = eaudit_device_result_device(r);
  eaudit_device_result_free(r);

  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(s, 1, 0, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 3);
  int64_t id, times;
  int kind;
  const char *label;
  eaudit_time first, last;
  EA_OK(eaudit_devices_get(list, 0, &id, &kind, &label, &first, &last, &times));
  ck_assert_int_eq(id, d1);
  ck_assert_int_eq(kind, M);
  ck_assert_str_eq(label, "iPhone15,2 (iOS)");
  ck_assert_int_eq(first, t0);
  ck_assert_int_eq(last, t0 + 100 * DAY);
  ck_assert_int_eq(times, 2);
  EA_OK(eaudit_devices_get(list, 2, &id, &kind, &label, NULL, NULL, NULL));
  ck_assert_int_eq(id, d3);
  ck_assert_int_eq(kind, A);
  ck_assert_str_eq(label, "Safari on macOS");
  ck_assert_ptr_null(eaudit_devices_attr(list, 0, K));
  ck_assert_str_eq(eaudit_devices_attr(list, 1, OSV), "14");
  ck_assert_int_eq(eaudit_devices_get(list, 3, &id, NULL, NULL, NULL, NULL,
                                      NULL),
                   EAUDIT_ERANGE);
  eaudit_devices_free(list);
  EA_OK(eaudit_store_devices(s, 1, A, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 1);
  eaudit_devices_free(list);
  EA_OK(eaudit_store_devices(s, 2, 0, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 0);
  eaudit_devices_free(list);

  EA_OK(eaudit_store_rename_device(s, d2, "Anna's Pixel"));
  char *name = NULL;
  EA_OK(eaudit_store_name_at(s, EAUDIT_KIND_DEVICE, d2, t0, &name));
  ck_assert_str_eq(name, "Anna's Pixel");
  eaudit_free(name);
  EA_OK(eaudit_store_devices(s, 1, M, &list));
  EA_OK(eaudit_devices_get(list, 1, NULL, NULL, &label, NULL, NULL, NULL));
  ck_assert_str_eq(label, "Anna's Pixel");
  eaudit_devices_free(list);
  ck_assert_int_eq(eaudit_store_rename_device(s, 999, "x"), EAUDIT_ENOTFOUND);
  ck_assert_int_eq(eaudit_store_rename_device(s, d2, ""), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_rename_device(s, d2, "\xff"), EAUDIT_EUTF8);

  /* Forgotten: the next login is a new device with a new id. */
  EA_OK(eaudit_store_forget_device(s, d3));
  ck_assert_int_eq(eaudit_store_forget_device(s, d3), EAUDIT_ENOTFOUND);
  r = login(s, ic, 1, A, t0 + 101 * DAY);
  ck_assert_int_eq(eaudit_device_result_reason(r), R(FIRST_SEEN));
  ck_assert_int_gt(eaudit_device_result_device(r), d3);
  eaudit_device_result_free(r);

  /* Now = day 110: the Pixel (day 10) is unseen for 100 days. */
  clock.now = t0 + 110 * DAY;
  int64_t n = -1;
  ck_assert_int_eq(eaudit_store_forget_unseen_devices(s, 0, &n), EAUDIT_ERANGE);
  EA_OK(eaudit_store_forget_unseen_devices(
      s, EAUDIT_DEVICE_FORGET_DAYS_DEFAULT, &n));
  ck_assert_int_eq(n, 1);
  EA_OK(eaudit_store_devices(s, 1, 0, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 2);
  eaudit_devices_free(list);
  /* The iPhone (day 100) and the Mac (day 101) are older than 5 days. */
  EA_OK(eaudit_store_forget_unseen_devices(s, 5, &n));
  ck_assert_int_eq(n, 2);
  if (tu_backend_pg()) {
    /* The state is the store's own origin's, in the central tables. */
    char v[64];
    tu_store_value(tu_store_last_target(), NULL,
                   "SELECT count(*) || ' ' || count(*) FILTER (WHERE origin ="
                   " (SELECT site_id FROM eaudit.sites WHERE own)) FROM"
                   " eaudit.devices",
                   v, sizeof v);
    ck_assert_str_eq(v, "0 0");
    ck_assert_int_eq(eaudit_store_forget_device(s, d1), EAUDIT_ENOTFOUND);
  }
  eaudit_device_info_free(ia);
  eaudit_device_info_free(ib);
  eaudit_device_info_free(ic);
  eaudit_store_free(s);
}
END_TEST

/* Weights and threshold come from the options: with the IP weighted
 * heavily and a strict threshold, a new network is a new device. */
START_TEST(weights_and_threshold_are_options) {
  int64_t v;
  eaudit_options *o = NULL;
  EA_OK(eaudit_options_new(&o));
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_DEVICE_THRESHOLD, &v));
  ck_assert_int_eq(v, 750);
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_DEVICE_WEIGHT_MODEL, &v));
  ck_assert_int_eq(v, 200);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_DEVICE_THRESHOLD, 0),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_DEVICE_WEIGHT_IP, 1001),
                   EAUDIT_ERANGE);
  eaudit_options_free(o);

  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  for (int strict = 0; strict < 2; strict++) {
    o = tu_options(&clock, NULL);
    if (strict) {
      EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_DEVICE_WEIGHT_IP, 1000));
      EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_DEVICE_THRESHOLD, 900));
    }
    eaudit_store *s = open_opts(o);
    eaudit_options_free(o);
    step st = {1, A, WIN_CHROME, {{K, UNSET}}, 0, 0, 0};
    eaudit_device_info *info = info_of(&st);
    eaudit_device_result *r = login(s, info, 1, A, clock.now);
    eaudit_device_result_free(r);
    EA_OK(eaudit_device_info_set_str(info, IP, "198.51.100.77"));
    r = login(s, info, 1, A, clock.now + HOUR);
    ck_assert_int_eq(eaudit_device_result_decision(r), strict ? NEW : KNOWN);
    eaudit_device_result_free(r);
    eaudit_device_info_free(info);
    eaudit_store_free(s);
  }
}
END_TEST

/* The window of candidates: devices seen on a later UTC day first; within
 * one day the most recently learned first. 70 devices of one class (user
 * 3): X (id 1) last seen on day 2, ids 2..70 on day 1, later in the day
 * for lower ids. */
static eaudit_device_info *fleet_info(int i) {
  char osv[16], screen[24], tz[24], lang[16], ip[24];
  snprintf(osv, sizeof osv, "14.%d", i);
  snprintf(screen, sizeof screen, "1080x%d", 2000 + i);
  snprintf(tz, sizeof tz, "Zone/%d", i);
  snprintf(lang, sizeof lang, "l%d", i);
  snprintf(ip, sizeof ip, "10.%d.0.1", i);
  eaudit_device_info *info = NULL;
  EA_OK(eaudit_device_info_new(&info));
  EA_OK(eaudit_device_info_set_str(info, PLAT, "Android"));
  EA_OK(eaudit_device_info_set_str(info, OS, "Android"));
  EA_OK(eaudit_device_info_set_str(info, OSV, osv));
  EA_OK(eaudit_device_info_set_str(info, MODEL, "SM-A546B"));
  EA_OK(eaudit_device_info_set_str(info, SCREEN, screen));
  EA_OK(eaudit_device_info_set_str(info, TZ, tz));
  EA_OK(eaudit_device_info_set_str(info, LANG, lang));
  EA_OK(eaudit_device_info_set_str(info, IP, ip));
  return info;
}

START_TEST(window_is_the_latest_days_then_the_newest) {
  tu_clock clock = {tu_utc(2026, 3, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  eaudit_time day1 = tu_utc(2026, 3, 2, 0, 0, 0);
  if (tu_backend_pg()) {
    /* The same 70 rows on the central tables, of the store's own origin;
     * the identity then continues after them. */
    tu_store_sql(
        tu_store_last_target(), NULL,
        "INSERT INTO eaudit.devices(id, origin, user_id, kind, platform,"
        " os_family, os_version, model, screen, time_zone, language, ip,"
        " os_key, cls, label, first_seen, last_seen, times_seen, seen_day)"
        " SELECT i, (SELECT site_id FROM eaudit.sites WHERE own), 3, 2,"
        " 'Android', 'Android', '14.' || i, 'SM-A546B', '1080x' || (2000 + i),"
        " 'Zone/' || i, 'l' || i, '10.' || i || '.0.1', 'android',"
        " 'android' || chr(31) || 'android' || chr(31) || 'sm-a546b', 'phone',"
        " t, t, 1, t / 86400000000 FROM (SELECT i, CASE WHEN i = 1 THEN"
        " 1772409600000000 + 86400000000 + 3600000000 ELSE 1772409600000000"
        " + (100 - i) * 60000000::int8 END AS t"
        " FROM generate_series(1, 70) AS i) AS f;"
        " SELECT setval(pg_get_serial_sequence('eaudit.devices', 'id'), 70)");
  } else {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(
      sqlite3_prepare_v2(
          s->db,
          "INSERT INTO devices(id, user_id, kind, platform, os_family, "
          "os_version, model, screen, time_zone, language, ip, os_key, cls, "
          "label, first_seen, last_seen, times_seen, seen_day) VALUES (?1, "
          "3, 2, 'Android', 'Android', ?2, 'SM-A546B', ?3, ?4, ?5, ?6, "
          "'android', 'android' || char(31) || 'android' || char(31) || "
          "'sm-a546b', 'phone', ?7, ?7, 1, ?7 / 86400000000)",
          -1, &st, NULL),
      SQLITE_OK);
  for (int i = 1; i <= 70; i++) {
    eaudit_device_info *info = fleet_info(i);
    eaudit_time seen =
        i == 1 ? day1 + DAY + HOUR : day1 + (eaudit_time)(100 - i) * 60000000;
    sqlite3_bind_int(st, 1, i);
    for (int a = OSV; a <= IP; a++)
      if (a != BF && a != BV && a != MODEL && eaudit_device_info_get_str(info, a))
        sqlite3_bind_text(st, a == OSV ? 2 : a == SCREEN ? 3 : a == TZ ? 4
                                           : a == LANG ? 5 : 6,
                          eaudit_device_info_get_str(info, a), -1,
                          SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, seen);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    eaudit_device_info_free(info);
  }
  sqlite3_finalize(st);
  }
  /* X was learned first but seen last: in the window. */
  eaudit_device_info *info = fleet_info(1);
  eaudit_device_result *r = NULL;
  EA_OK(eaudit_store_observe_device(s, info, 3, M, day1 + 3 * DAY, &r));
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_device(r), 1);
  eaudit_device_result_free(r);
  eaudit_device_info_free(info);
  /* Day 1 leaves 63 places: ids 70 down to 8. Device 8 is in the window,
   * device 7, seen later that day, is not: recency is by day. */
  info = fleet_info(8);
  EA_OK(eaudit_store_observe_device(s, info, 3, M, day1 + 3 * DAY, &r));
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_device(r), 8);
  eaudit_device_result_free(r);
  eaudit_device_info_free(info);
  info = fleet_info(7);
  EA_OK(eaudit_store_observe_device(s, info, 3, M, day1 + 3 * DAY, &r));
  ck_assert_int_eq(eaudit_device_result_decision(r), NEW);
  ck_assert_int_eq(eaudit_device_result_device(r), 71);
  eaudit_device_result_free(r);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

static int64_t sync_level(eaudit_store *s) {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(
      sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL),
      SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* On a FULL store the handle is back at FULL after every observation,
 * recorded or not; a zone changed by another handle between two
 * observations is seen by the next one (its hour lands in the histogram
 * in the new zone). */
START_TEST(durability_restored_and_other_handles_seen) {
  TU_SQLITE_ONLY("synchronous levels and data versions are SQLite's");
  char path[512];
  tu_temp_path(path, sizeof path, "devices-durability");
  tu_clock clock = {tu_utc(2026, 5, 4, 8, 0, 0), 0};
  eaudit_options *o = tu_options(&clock, NULL);
  eaudit_store *s = NULL, *other = NULL;
  EA_OK(eaudit_store_open(&s, path, o));
  EA_OK(eaudit_store_open(&other, path, o));
  ck_assert_int_eq(sync_level(s), 2);
  step wa = {1, A, WIN_CHROME, {{0}}, 0, 0, 0};
  eaudit_device_info *info = info_of(&wa);
  eaudit_device_result *r = login(s, info, 4, A, tu_utc(2026, 5, 4, 8, 0, 0));
  ck_assert_int_eq(eaudit_device_result_decision(r), NEW);
  ck_assert_int_eq(eaudit_device_result_seq(r), 1);
  eaudit_device_result_free(r);
  ck_assert_int_eq(sync_level(s), 2);
  r = login(s, info, 4, A, tu_utc(2026, 5, 4, 8, 30, 0));
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  ck_assert_int_eq(eaudit_device_result_record(r), 0);
  eaudit_device_result_free(r);
  ck_assert_int_eq(sync_level(s), 2);
  EA_OK(eaudit_store_set_time_zone(other, "Asia/Tokyo"));
  r = login(s, info, 4, A, tu_utc(2026, 5, 5, 0, 30, 0)); /* 09:30 Tokyo */
  ck_assert_int_eq(eaudit_device_result_decision(r), KNOWN);
  eaudit_device_result_free(r);
  ck_assert_int_eq(sync_level(s), 2);
  int64_t hours[24];
  EA_OK(eaudit__login_hours(s, 4, hours));
  for (int h = 0; h < 24; h++)
    ck_assert_int_eq(hours[h], h == 8 ? 2 : h == 9 ? 1 : 0);
  int64_t n = 0;
  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(other, 4, A, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 1);
  eaudit_time last = 0;
  EA_OK(eaudit_devices_get(list, 0, NULL, NULL, NULL, NULL, &last, &n));
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(last, tu_utc(2026, 5, 5, 0, 30, 0));
  eaudit_devices_free(list);
  ck_assert_int_eq(count(other), 1);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
  eaudit_store_free(other);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

START_TEST(same_input_same_decisions_and_ids) {
  uint8_t ids[2][4][16];
  for (int run = 0; run < 2; run++) {
    tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 1000};
    uint64_t seed = 99;
    eaudit_store *s = open_mem(&clock, &seed);
    const char *const *bases[4] = {IPHONE, PIXEL, IPHONE, PIXEL};
    for (int i = 0; i < 4; i++) {
      step st = {1, M, bases[i], {{0}}, 0, 0, 0};
      if (i == 2)
        st.ov[0] = (ovr){OSV, "17.4"};
      if (i == 3)
        st.ov[0] = (ovr){K, "reset-install"};
      eaudit_device_info *info = info_of(&st);
      eaudit_device_result *r = login(s, info, 1, M, clock.now + i * HOUR);
      ck_assert_int_eq(eaudit_device_result_seq(r), i + 1);
      ck_assert_int_eq(eaudit_device_result_device(r), i % 2 + 1);
      eaudit_device_result_free(r);
      eaudit_device_info_free(info);
    }
    eaudit_cursor *cur = NULL;
    const eaudit_event *ev;
    EA_OK(eaudit_store_tail(s, 0, 0, &cur));
    for (int i = 0; i < 4; i++) {
      EA_OK(eaudit_cursor_next(cur, &ev));
      EA_OK(eaudit_event_id(ev, ids[run][i]));
    }
    eaudit_cursor_free(cur);
    eaudit_store_free(s);
  }
  ck_assert_mem_eq(ids[0], ids[1], sizeof ids[0]);
}
END_TEST

START_TEST(bad_arguments_write_nothing) {
  tu_clock clock = {tu_utc(2026, 1, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  eaudit_device_info *info = NULL;
  eaudit_device_result *r = NULL;
  EA_OK(eaudit_device_info_new(&info));
  ck_assert_int_eq(eaudit_device_info_set_str(info, 0, "x"), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_device_info_set_str(info, 12, "x"), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_device_info_set_str(info, OS, "i\xc3"), EAUDIT_EUTF8);
  char big[EAUDIT_DEVATTR_MAX_BYTES + 2];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  ck_assert_int_eq(eaudit_device_info_set_str(info, MODEL, big),
                   EAUDIT_ETOOBIG);
  EA_OK(eaudit_device_info_set_str(info, OS, "  iOS \t"));
  ck_assert_str_eq(eaudit_device_info_get_str(info, OS), "iOS");
  EA_OK(eaudit_device_info_set_str(info, OS, "   "));
  ck_assert_ptr_null(eaudit_device_info_get_str(info, OS));
  ck_assert_int_eq(eaudit_store_observe_device(s, info, 1, 3, 0, &r),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_observe_device(s, info, 1, A, 0, NULL),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_observe_device(NULL, info, 1, A, 0, &r),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_admin_login(s, info, 1, INT64_MAX, &r),
                   EAUDIT_ETIME);
  ck_assert_ptr_null(r);
  ck_assert_int_eq(eaudit_store_devices(s, 1, 7, &(eaudit_devices *){NULL}),
                   EAUDIT_EINVAL);
  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(s, 1, 0, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 0);
  eaudit_devices_free(list);
  ck_assert_int_eq(count(s), 0);
  /* No attributes at all: a first device, then nothing to match. */
  EA_OK(eaudit_store_mobile_login(s, NULL, 1, clock.now, NULL));
  EA_OK(eaudit_store_mobile_login(s, NULL, 1, clock.now, &r));
  ck_assert_int_eq(eaudit_device_result_reason(r), R(NEW_HARDWARE));
  eaudit_device_result_free(r);
  ck_assert_int_eq(count(s), 2);
  eaudit_device_result_free(NULL);
  eaudit_device_info_free(NULL);
  eaudit_devices_free(NULL);
  ck_assert_int_eq(eaudit_device_result_decision(NULL), 0);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
}
END_TEST

/* Two handles logging one user in at once from the same new phone: the
 * observations take turns (SQLite's write lock; on PostgreSQL an advisory
 * lock on the user), so there is one device and one first_seen event. */
typedef struct racer {
  pthread_t t;
  const char *target;
  int rc, news;
  char msg[256];
} racer;

static void *race(void *arg) {
  racer *x = arg;
  eaudit_store *s = NULL;
  eaudit_device_info *info = NULL;
  x->rc = eaudit_store_open(&s, x->target, NULL);
  if (x->rc == 0)
    x->rc = eaudit_device_info_new(&info);
  for (int a = 1; x->rc == 0 && a < NA; a++)
    x->rc = eaudit_device_info_set_str(info, a, PIXEL[a]);
  for (int i = 0; x->rc == 0 && i < 15; i++) {
    eaudit_device_result *r = NULL;
    x->rc = eaudit_store_mobile_login(s, info, 21,
                                      tu_utc(2026, 2, 1, 9, 0, 0) + i * HOUR,
                                      &r);
    x->news += x->rc == 0 && eaudit_device_result_decision(r) == NEW;
    eaudit_device_result_free(r);
  }
  snprintf(x->msg, sizeof x->msg, "%s", eaudit_error_last()->message);
  eaudit_device_info_free(info);
  eaudit_store_free(s);
  return NULL;
}

START_TEST(concurrent_logins_of_one_user_learn_one_device) {
  tu_clock clock = {tu_utc(2026, 2, 1, 0, 0, 0), 0};
  eaudit_store *s = open_mem(&clock, NULL);
  racer x[2];
  memset(x, 0, sizeof x);
  for (int i = 0; i < 2; i++) {
    x[i].target = tu_store_last_target();
    ck_assert_int_eq(pthread_create(&x[i].t, NULL, race, &x[i]), 0);
  }
  for (int i = 0; i < 2; i++)
    pthread_join(x[i].t, NULL);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(x[i].rc == 0, "racer %d: %d %s", i, x[i].rc, x[i].msg);
  ck_assert_int_eq(x[0].news + x[1].news, 1);
  eaudit_devices *list = NULL;
  EA_OK(eaudit_store_devices(s, 21, M, &list));
  ck_assert_uint_eq(eaudit_devices_size(list), 1);
  int64_t times = 0;
  EA_OK(eaudit_devices_get(list, 0, NULL, NULL, NULL, NULL, NULL, &times));
  ck_assert_int_eq(times, 30);
  eaudit_devices_free(list);
  ck_assert_int_eq(count(s), 1);
  eaudit_store_free(s);
}
END_TEST

int main(void) {
  Suite *su = suite_create("devices");
  TCase *tc = tcase_create("devices");
  tcase_add_loop_test(tc, decision_table_scenarios, 0,
                      (int)(sizeof scenarios / sizeof scenarios[0]));
  tcase_add_test(tc, scenario_table_is_large_enough);
  tcase_add_test(tc, cleared_cookie_relearns_the_key);
  tcase_add_test(tc, a_normal_year_records_thirteen);
  tcase_add_test(tc, an_abuser_records_one_per_day);
  tcase_add_test(tc, decisions_survive_reopening);
  tcase_add_test(tc, histogram_counts_every_admin_observation);
  tcase_add_test(tc, observe_writes_state_but_no_event);
  tcase_add_test(tc, list_rename_forget_and_forget_unseen);
  tcase_add_test(tc, weights_and_threshold_are_options);
  tcase_add_test(tc, same_input_same_decisions_and_ids);
  tcase_add_test(tc, bad_arguments_write_nothing);
  tcase_add_test(tc, window_is_the_latest_days_then_the_newest);
  tcase_add_test(tc, durability_restored_and_other_handles_seen);
  tcase_add_test(tc, concurrent_logins_of_one_user_learn_one_device);
  suite_add_tcase(su, tc);
  return tu_run(su);
}
