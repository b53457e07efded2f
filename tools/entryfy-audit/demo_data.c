/* The demo's simulated month: an office of 200 people, 21 doors, 10
 * groups, a few administrators, phones and PCs, with routine traffic shaped
 * by working hours and the incidents the anomaly rules look for. Console
 * and app logins go through device recognition (eaudit_store_admin_login,
 * eaudit_store_mobile_login), which decides which of them are recorded.
 * Everything comes from one seeded PRNG, so a seed and an end time give the
 * same store byte for byte (ids through the injected random source,
 * recorded_at through the injected clock). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

uint64_t rng_below(rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }

double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) / 9007199254740992.0; }

/* Roughly normal, mean 0, deviation 1 (Irwin-Hall; no libm needed). */
static double rng_normal(rng *r) {
  return (rng_unit(r) + rng_unit(r) + rng_unit(r) - 1.5) * 2.0;
}

/* ---- the world ---- */

#define N_USERS 200
#define N_DOORS 21
#define N_GROUPS 10
#define SITE 1
#define MIN_US 60000000LL
#define HOUR_US 3600000000LL
#define DAY_US 86400000000LL

static const char *const door_names[N_DOORS + 1] = {
    NULL,           "Main entrance", "Lobby turnstile", "Car park gate",
    "Bike room",    "Office floor 1", "Office floor 2", "Warehouse gate",
    "Loading dock", "Server room",    "Lab 1",          "Lab 2",
    "Cleanroom",    "Archive",        "Kitchen",        "Gym",
    "Roof access",  "Meeting suite",  "Mail room",      "Security office",
    "Back door",    "Cleanroom exit"};
/* Schedules, local hours [open, close) on weekdays; 0-24 is always. */
static const int door_open[N_DOORS + 1] = {0, 6, 6, 6, 6, 7, 7, 6, 6, 0, 7,
                                           7, 7, 8, 7, 6, 8, 7, 8, 0, 6, 0};
static const int door_close[N_DOORS + 1] = {0,  22, 22, 22, 22, 20, 20,
                                            22, 20, 24, 20, 20, 19, 18,
                                            20, 23, 17, 20, 17, 24, 20, 24};
#define CLEANROOM 12      /* exit needs a check-in ... */
#define CLEANROOM_EXIT 21 /* ... at this reader, inside */
#define SERVER_ROOM 9
#define WAREHOUSE 7

static const char *const group_names[N_GROUPS + 1] = {
    NULL,          "Staff",        "Engineering",   "Facilities",
    "Contractors", "Visitors",     "Lab access",    "Server admins",
    "Night shift", "Cleanroom",    "Management"};
/* Doors each group opens (0-terminated). */
static const int group_doors[N_GROUPS + 1][12] = {
    {0},
    {1, 2, 3, 4, 5, 6, 14, 15, 17, 18, 0},
    {10, 11, 13, 0},
    {7, 8, 16, 20, 0},
    {1, 2, 7, 8, 0},
    {1, 2, 17, 0},
    {10, 11, 0},
    {SERVER_ROOM, 0},
    {1, 7, 8, 20, 0},
    {CLEANROOM, CLEANROOM_EXIT, 0},
    {13, 19, 0}};

static const char *const first_names[] = {
    "Alex",   "Priya",  "Jonas",  "Marta", "Liam",   "Sofia",  "Noah",
    "Amara",  "Lukas",  "Yuki",   "Omar",  "Elena",  "Mateo",  "Aisha",
    "Felix",  "Ingrid", "Tomasz", "Leila", "Daniel", "Chloe",  "Ravi",
    "Nora",   "Hugo",   "Mei",    "Samuel", "Freya", "Kofi",   "Lucia",
    "Emil",   "Hana",   "Victor", "Zara",  "Oskar",  "Ines",   "Arjun",
    "Maja",   "Theo",   "Selin",  "Pavel", "Greta"};
static const char *const last_names[] = {
    "Morgan",   "Natarajan", "Becker",  "Kowalska", "Okafor",  "Rossi",
    "Lindqvist", "Haddad",   "Novak",   "Tanaka",   "Schmidt", "Fischer",
    "Garcia",   "Mensah",    "Dubois",  "Jensen",   "Silva",   "Petrov",
    "Nakamura", "Brennan",   "Costa",   "Weber",    "Ahmed",   "Kim",
    "Larsen",   "Moreau",    "Varga",   "Duarte",   "Keller",  "Ibrahim",
    "Horvat",   "Sato",      "Wagner",  "Bianchi",  "Nyberg",  "Quinn",
    "Ortiz",    "Berg",      "Cohen",   "Yilmaz",   "Lund"};
/* What a browser or the app reports at a login (docs/devices.md). */
typedef struct devspec {
  char key[24], platform[12], os[12], os_ver[20], app[12], app_ver[24],
      model[40], screen[12], tz[20], lang[8], ip[40], label[64];
} devspec;

typedef struct phone_model {
  const char *name, *platform, *os, *os_ver, *model, *screen;
} phone_model;
static const phone_model phone_models[] = {
    {"Pixel 8", "Android", "Android", "14", "Pixel 8", "1080x2400"},
    {"iPhone 15", "iPhone", "iOS", "17.5.1", "iPhone15,4", "1179x2556"},
    {"Galaxy S23", "Android", "Android", "14", "SM-S911B", "1080x2340"},
    {"iPhone 13", "iPhone", "iOS", "17.5.1", "iPhone14,5", "1170x2532"},
    {"Pixel 7a", "Android", "Android", "14", "Pixel 7a", "1080x2400"},
    {"Galaxy A54", "Android", "Android", "14", "SM-A546B", "1080x2340"}};
#define N_PHONE_MODELS 6

/* The administrators' browsers (UA-CH values; the model is what the
 * console's script reports for the hardware). */
static const devspec admin_devs[] = {
    {"ck-7f3a91c2", "Windows", "Windows", "15.0.0", "Firefox", "128.0",
     "ThinkPad X1 Carbon Gen 11", "1920x1200", "Europe/Berlin", "de-DE",
     "10.20.0.15", "Alex's ThinkPad (Firefox)"},
    {"ck-2c8e4410", "macOS", "macOS", "14.5.0", "Safari", "17.5",
     "MacBookPro18,3", "3024x1964", "Europe/Berlin", "en-GB", "10.20.0.22",
     "Priya's MacBook (Safari)"},
    {"ck-91d0b7aa", "Windows", "Windows", "10.0.0", "Chrome",
     "126.0.6478.127", "Dell OptiPlex 7010", "2560x1440", "Europe/Berlin",
     "de-DE", "10.20.0.31", "Jonas's desktop (Chrome)"},
    {"ck-5be21093", "Windows", "Windows", "15.0.0", "Edge", "126.0.2592.87",
     "Surface Laptop 5", "2256x1504", "Europe/Berlin", "pl-PL", "10.20.0.44",
     "Marta's Surface (Edge)"},
    {"ck-e40a5c17", "macOS", "macOS", "14.5.0", "Firefox", "127.0",
     "MacBookPro18,3", "3024x1964", "Europe/Berlin", "en-GB", "10.20.0.22",
     "Priya's MacBook (Firefox)"},
    {"ck-0d66f2e8", "Windows", "Windows", "15.0.0", "Chrome",
     "126.0.6478.127", "Dell XPS 13 9340", "2880x1800", "Europe/Berlin",
     "de-DE", "10.20.0.17", "Alex's new Dell XPS (Chrome)"},
    {"ck-b7719e04", "Windows", "Windows", "10.0.0", "Chrome", "124.0.6367.91",
     "HP EliteBook 840 G8", "1366x768", "Europe/Moscow", "en-US",
     "203.0.113.77", "Unknown Windows laptop (Chrome)"},
    {"ck-5be21093", "Windows", "Windows", "15.0.0", "Edge", "127.0.2651.74",
     "Surface Laptop 5", "2256x1504", "Europe/Berlin", "pl-PL", "10.20.0.44",
     "Marta's Surface (Edge)"}};

#define ADMINS 4         /* users 1-4 administer the console */
#define ABUSER 137       /* logs in from "new" phones twice a day */
#define TRAPPED 121      /* expires while inside the cleanroom */
#define TEMP_PRIV 58     /* gets server-room access for half an hour */
#define BURSTER 88       /* fails six times at the warehouse gate */
#define CARD_TROUBLE 77  /* three keycard failures in an hour */
#define CHURNER 149      /* five PIN changes in a day */
#define RENAMED 64       /* renamed mid-month */
#define FIRST_CONTRACTOR 181

typedef struct user {
  unsigned groups; /* bit g: member of group g */
  int cred;        /* preferred credential */
  int present;     /* percent of weekdays in the office */
  int night;
  char name[64];
} user;

enum { LOGIN_NONE, LOGIN_ADMIN, LOGIN_MOBILE };

typedef struct sev {
  int64_t at, subject, actor, door, group, device;
  int type, cred, reason;
  int login;  /* LOGIN_*: a device login instead of an event */
  int spec;   /* its devspec, in sim.specs */
  const char *details;
} sev;

typedef struct sim {
  eaudit_store *s;
  rng r;
  eaudit_time start, end;
  sev *ev;
  size_t n, cap;
  user users[N_USERS + 1];
  eaudit_time expired_at[N_USERS + 1]; /* lapsed, not prolonged */
  eaudit_time trapped_from; /* TRAPPED's scripted last days */
  devspec *specs;
  size_t n_specs, cap_specs;
  devspec phone[N_USERS + 1]; /* each user's phone before the month */
  int oom;
} sim;

static sev *add(sim *m, eaudit_time at, int type, int64_t subject) {
  if (at < m->start || at >= m->end)
    return NULL;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 4096;
    sev *p = realloc(m->ev, cap * sizeof *p);
    if (p == NULL) {
      m->oom = 1;
      return NULL;
    }
    m->ev = p;
    m->cap = cap;
  }
  sev *e = &m->ev[m->n++];
  memset(e, 0, sizeof *e);
  e->at = at;
  e->type = type;
  e->subject = subject;
  return e;
}

static int can_open(const user *u, int door) {
  for (int g = 1; g <= N_GROUPS; g++)
    if (u->groups & (1u << g))
      for (const int *d = group_doors[g]; *d; d++)
        if (*d == door)
          return 1;
  return 0;
}

static void door_event(sim *m, eaudit_time at, int64_t uid, int door,
                       int reason) {
  sev *e = add(m, at, reason ? EAUDIT_TYPE_DOOR_OPEN_FAILED
                             : EAUDIT_TYPE_DOOR_OPENED,
               uid);
  if (e == NULL)
    return;
  e->door = door;
  e->cred = m->users[uid].cred;
  e->reason = reason;
  if (door == CLEANROOM)
    e->details = "{\"area\":\"cleanroom\",\"direction\":\"in\","
                 "\"check_in_to_exit\":true}";
  if (door == CLEANROOM_EXIT)
    e->details = "{\"area\":\"cleanroom\",\"direction\":\"out\","
                 "\"check_in_to_exit\":true}";
}

/* A login through device recognition at @p at with a copy of @p spec. */
static void login(sim *m, eaudit_time at, int kind, int64_t uid,
                  const devspec *spec) {
  if (m->n_specs == m->cap_specs) {
    size_t cap = m->cap_specs ? m->cap_specs * 2 : 256;
    devspec *p = realloc(m->specs, cap * sizeof *p);
    if (p == NULL) {
      m->oom = 1;
      return;
    }
    m->specs = p;
    m->cap_specs = cap;
  }
  sev *e = add(m, at, 0, uid);
  if (e == NULL)
    return;
  e->login = kind;
  e->spec = (int)m->n_specs;
  m->specs[m->n_specs++] = *spec;
}

/* Local days of the month, found through the library so that they are
 * DST-correct: begin of each day and its length. */
typedef struct day {
  eaudit_time begin, len;
  int weekday; /* 0 Monday .. 6 Sunday */
} day;

static int weekday_of(eaudit_store *s, eaudit_time t) {
  char b[EAUDIT_TIME_STRMAX];
  eaudit_store_format_time(s, t, EAUDIT_TIME_LOCAL, b, sizeof b);
  int y = atoi(b), mo = atoi(b + 5), d = atoi(b + 8);
  /* Sakamoto's method: 0 = Sunday. */
  static const int k[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (mo < 3)
    y--;
  int w = (y + y / 4 - y / 100 + y / 400 + k[mo - 1] + d) % 7;
  return (w + 6) % 7;
}

/* Local wall-clock hour h (may be fractional) of a day. The DST switch is
 * at night, so hours from 03:00 on move by the day's extra or missing
 * hour. */
static eaudit_time at_hour(const day *d, double h) {
  eaudit_time t = d->begin + (eaudit_time)(h * (double)HOUR_US);
  if (h >= 3.0)
    t += d->len - DAY_US;
  return t;
}

static void setup_users(sim *m) {
  for (int i = 1; i <= N_USERS; i++) {
    user *u = &m->users[i];
    const char *fn = first_names[(i - 1) % 40];
    const char *ln = last_names[((i - 1) * 7 + (i - 1) / 40) % 41];
    snprintf(u->name, sizeof u->name, "%s %s", fn, ln);
    u->groups = 1u << 1;
    uint64_t c = rng_below(&m->r, 100);
    u->cred = c < 55   ? EAUDIT_CREDENTIAL_MOBILE
              : c < 85 ? EAUDIT_CREDENTIAL_KEYCARD
              : c < 95 ? EAUDIT_CREDENTIAL_PIN
                       : EAUDIT_CREDENTIAL_QR;
    u->present = 85 + (int)rng_below(&m->r, 12);
    if (i >= 10 && i < 50)
      u->groups |= 1u << 2;
    if (i >= 50 && i < 65)
      u->groups |= 1u << 3;
    if (i >= FIRST_CONTRACTOR && i < 196)
      u->groups = (1u << 4);
    if (i >= 196)
      u->groups = (1u << 5);
    if ((i >= 20 && i < 35) || i == TRAPPED)
      u->groups |= 1u << 6;
    if (i == 1 || i == 3)
      u->groups |= 1u << 7;
    if (i >= 100 && i < 112) {
      u->groups |= 1u << 8;
      u->night = 1;
    }
    if ((i >= 25 && i < 30) || i == TRAPPED)
      u->groups |= 1u << 9;
    if (i <= 4 || (i >= 40 && i < 44))
      u->groups |= 1u << 10;
  }
  /* Fixed names the guide and the tests refer to. */
  snprintf(m->users[1].name, 64, "Alex Morgan");
  snprintf(m->users[42].name, 64, "Zo\xc3\xab Quinn");
  snprintf(m->users[ABUSER].name, 64, "Derek Voss");
  snprintf(m->users[TRAPPED].name, 64, "Ines Duarte");
  snprintf(m->users[RENAMED].name, 64, "Hannah Weber");
}

/* Everyone's phone, with the app installed before the month began. */
static void setup_phones(sim *m) {
  static const char *const langs[] = {"de-DE", "de-DE", "en-GB", "en-US",
                                      "pl-PL", "tr-TR"};
  for (int i = 1; i <= N_USERS; i++) {
    devspec *p = &m->phone[i];
    const phone_model *pm = &phone_models[rng_below(&m->r, N_PHONE_MODELS)];
    memset(p, 0, sizeof *p);
    snprintf(p->key, sizeof p->key, "inst-%012llx",
             (unsigned long long)(rng_next(&m->r) >> 16));
    snprintf(p->platform, sizeof p->platform, "%s", pm->platform);
    snprintf(p->os, sizeof p->os, "%s", pm->os);
    snprintf(p->os_ver, sizeof p->os_ver, "%s", pm->os_ver);
    snprintf(p->app, sizeof p->app, "Entryfy");
    snprintf(p->app_ver, sizeof p->app_ver, "4.12.%d",
             (int)rng_below(&m->r, 3));
    snprintf(p->model, sizeof p->model, "%s", pm->model);
    snprintf(p->screen, sizeof p->screen, "%s", pm->screen);
    snprintf(p->tz, sizeof p->tz, "Europe/Berlin");
    snprintf(p->lang, sizeof p->lang, "%s", langs[rng_below(&m->r, 6)]);
    snprintf(p->ip, sizeof p->ip, "100.64.%u.%u", (unsigned)rng_below(&m->r, 256),
             (unsigned)rng_below(&m->r, 254) + 1);
    snprintf(p->label, sizeof p->label, "%.*s's %s",
             (int)strcspn(m->users[i].name, " "), m->users[i].name, pm->name);
  }
}

static void fill_info(eaudit_device_info *info, const devspec *p) {
  eaudit_device_info_clear(info);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_KEY, p->key);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_PLATFORM, p->platform);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_FAMILY, p->os);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_VERSION, p->os_ver);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_BROWSER_FAMILY, p->app);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_BROWSER_VERSION,
                             p->app_ver);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_MODEL, p->model);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_SCREEN, p->screen);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_TIME_ZONE, p->tz);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_LANGUAGE, p->lang);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_IP, p->ip);
  eaudit_device_info_set_site(info, SITE);
}

/* One login (or, with @p observe, a sighting that records nothing); a
 * device seen for the first time gets the spec's label. */
static int device_login(eaudit_store *s, eaudit_device_info *info,
                        const devspec *p, int kind, int64_t uid,
                        eaudit_time at, int observe, size_t *new_devices) {
  eaudit_device_result *res = NULL;
  fill_info(info, p);
  int rc = observe ? eaudit_store_observe_device(s, info, uid, kind, at, &res)
           : kind == LOGIN_ADMIN
               ? eaudit_store_admin_login(s, info, uid, at, &res)
               : eaudit_store_mobile_login(s, info, uid, at, &res);
  if (rc == 0 && eaudit_device_result_decision(res) == EAUDIT_DEVICE_NEW) {
    (*new_devices)++;
    rc = eaudit_store_rename_device(s, eaudit_device_result_device(res),
                                    p->label);
  }
  eaudit_device_result_free(res);
  return rc;
}

/* One person's ordinary day. */
static void routine(sim *m, const day *d, int uid) {
  user *u = &m->users[uid];
  rng *r = &m->r;
  int weekend = d->weekday >= 5;
  if ((uint64_t)(weekend ? 6 : u->present) <= rng_below(r, 100))
    return;
  if (uid == TRAPPED && m->trapped_from && d->begin >= m->trapped_from)
    return; /* scripted: into the cleanroom, expired, still inside */
  if (uid >= 196 && rng_below(r, 100) < 70)
    return; /* visitors come now and then */
  if (m->expired_at[uid] && d->begin > m->expired_at[uid]) {
    /* Lapsed: turned away at the entrance now and then, then gone. */
    if (!weekend && rng_below(r, 100) < 25)
      door_event(m, at_hour(d, 8 + rng_unit(r)), uid, 1,
                 EAUDIT_REASON_PERMISSIONS_EXPIRED);
    return;
  }
  double arrive = u->night ? 20.5 + rng_normal(r) * 0.4
                           : 8.3 + rng_normal(r) * 0.7;
  double leave = u->night ? 29.5 + rng_normal(r) * 0.3
                          : arrive + 8.6 + rng_normal(r) * 0.5;
  if (weekend) {
    arrive = 10 + rng_unit(r) * 3;
    leave = arrive + 1.5 + rng_unit(r) * 3;
  }
  if (leave > 30)
    leave = 30;
  if (rng_below(r, 100) < 30 && can_open(u, 3))
    door_event(m, at_hour(d, arrive - 0.05), uid, 3, 0);
  door_event(m, at_hour(d, arrive), uid, 1, 0);
  if (can_open(u, 2))
    door_event(m, at_hour(d, arrive + 0.02), uid, 2, 0);
  int desk = can_open(u, 5) ? (uid % 2 ? 5 : 6) : 0;
  if (desk)
    door_event(m, at_hour(d, arrive + 0.05), uid, desk, 0);
  /* Doors this person may use inside. */
  int doors[N_DOORS], nd = 0;
  for (int k = 4; k <= N_DOORS; k++)
    if (k != CLEANROOM && k != CLEANROOM_EXIT && k != SERVER_ROOM &&
        can_open(u, k))
      doors[nd++] = k;
  int trips = 2 + (int)rng_below(r, 5);
  for (int t = 0; t < trips && nd; t++) {
    double h = arrive + 0.2 + rng_unit(r) * (leave - arrive - 0.4);
    int door = doors[rng_below(r, (uint64_t)nd)];
    int hh = (int)h % 24;
    if (door_close[door] && (hh < door_open[door] || hh >= door_close[door]))
      continue; /* people know the schedules */
    door_event(m, at_hour(d, h), uid, door, 0);
  }
  if (!u->night && !weekend && rng_below(r, 100) < 45) {
    double lunch = 12 + rng_unit(r) * 1.5;
    door_event(m, at_hour(d, lunch + 0.5 + rng_unit(r) * 0.3), uid, 1, 0);
  }
  if ((u->groups & (1u << 9)) && rng_below(r, 100) < 40 && uid != TRAPPED) {
    double h = arrive + 1 + rng_unit(r) * 3;
    door_event(m, at_hour(d, h), uid, CLEANROOM, 0);
    /* Out again through the check-in reader inside. */
    door_event(m, at_hour(d, h + 0.3 + rng_unit(r) * 1.2), uid, CLEANROOM_EXIT,
               0);
  }
}

static sev *admin_change(sim *m, eaudit_time at, int type, int64_t admin,
                         int64_t uid, int g) {
  sev *e = add(m, at, type, uid);
  if (e) {
    e->actor = admin;
    e->group = g;
  }
  return e;
}

static void incidents(sim *m, const day *days, int nd) {
  rng *r = &m->r;
  const day *last = &days[nd - 1];
  eaudit_time now = m->end;

  /* The abuser: a fresh phone (new install, another model) twice a day
   * for the last ten days. */
  static const char *const burners[][3] = {
      {"Redmi Note 12", "23021RAA2Y", "1080x2400"},
      {"moto g54", "moto g54 5G", "1080x2400"},
      {"Galaxy A14", "SM-A145R", "1080x2408"},
      {"Nokia G22", "Nokia G22", "720x1612"}};
  for (int k = 0; k < 10 && k < nd; k++) {
    const day *d = &days[nd - 1 - k];
    for (int j = 0; j < 2; j++) {
      double h = j ? 21 + rng_unit(r) * 1.5 : 9 + rng_unit(r) * 2;
      const char *const *b = burners[rng_below(r, 4)];
      devspec p = m->phone[ABUSER];
      snprintf(p.key, sizeof p.key, "inst-%012llx",
               (unsigned long long)(rng_next(r) >> 16));
      snprintf(p.platform, sizeof p.platform, "Android");
      snprintf(p.os, sizeof p.os, "Android");
      snprintf(p.os_ver, sizeof p.os_ver, "%d", 12 + (int)rng_below(r, 3));
      snprintf(p.model, sizeof p.model, "%s", b[1]);
      snprintf(p.screen, sizeof p.screen, "%s", b[2]);
      snprintf(p.lang, sizeof p.lang, "%s", rng_below(r, 2) ? "en-US" : "ru-RU");
      snprintf(p.ip, sizeof p.ip, "185.220.101.%u", (unsigned)rng_below(r, 250) + 1);
      snprintf(p.label, sizeof p.label, "%s (unrecognized)", b[0]);
      snprintf(p.app_ver, sizeof p.app_ver, "4.11.0");
      login(m, at_hour(d, h), LOGIN_MOBILE, ABUSER, &p);
    }
  }
  /* Ordinary new-device logins: an OS update, a reset phone, a new
   * phone, about one a month per person. */
  for (int k = 0; k < 14; k++) {
    int uid = 5 + (int)rng_below(r, 180);
    if (uid == ABUSER)
      continue;
    devspec p = m->phone[uid];
    if (k % 3 == 0) { /* a reset: same phone, new install id */
      snprintf(p.key, sizeof p.key, "inst-%012llx",
               (unsigned long long)(rng_next(r) >> 16));
    } else if (k % 3 == 1) { /* an OS update */
      snprintf(p.os_ver, sizeof p.os_ver, "%s",
               strcmp(p.os, "iOS") == 0 ? "17.6.1" : "15");
    } else { /* a new phone */
      const phone_model *pm = &phone_models[(uid + 3) % N_PHONE_MODELS];
      snprintf(p.key, sizeof p.key, "inst-%012llx",
               (unsigned long long)(rng_next(r) >> 16));
      snprintf(p.platform, sizeof p.platform, "%s", pm->platform);
      snprintf(p.os, sizeof p.os, "%s", pm->os);
      snprintf(p.os_ver, sizeof p.os_ver, "%s", pm->os_ver);
      snprintf(p.model, sizeof p.model, "%s", pm->model);
      snprintf(p.screen, sizeof p.screen, "%s", pm->screen);
      snprintf(p.label, sizeof p.label, "%.*s's new %s",
               (int)strcspn(m->users[uid].name, " "), m->users[uid].name,
               pm->name);
    }
    login(m, at_hour(&days[rng_below(r, (uint64_t)nd)], 8 + rng_unit(r) * 12),
          LOGIN_MOBILE, uid, &p);
  }
  /* The console: every administrator logs in on most working days with a
   * known browser (device recognition records nothing and learns the
   * hours they work), first entries on days 1-3 are recorded, and so are
   * a second browser, a new laptop and, near the end, a laptop nobody knows
   * at 03:10, an hour its admin never uses. */
  for (int i = 1; i < nd; i++) {
    if (days[i].weekday >= 5)
      continue;
    for (int admin = 1; admin <= ADMINS; admin++) {
      static const int first_day[ADMINS + 1] = {0, 1, 2, 2, 3};
      if (i < first_day[admin])
        continue;
      int n = 1 + (int)rng_below(r, 3);
      for (int j = 0; j < n; j++) {
        double h = j == 0 ? 8.2 + rng_normal(r) * 0.4
                          : 10 + rng_unit(r) * 7;
        if (i == first_day[admin] && j == 0)
          h = admin == 4 ? 10.4 : 8.2 + 0.45 * admin;
        int spec = admin - 1;
        if (admin == 1 && i >= 19)
          spec = 5; /* Alex's new Dell */
        if (admin == 2 && i >= 12 && (i == 12 || j % 2))
          spec = 4; /* Priya tries Firefox */
        if (admin == 4 && i >= 15)
          spec = 7; /* Edge updated */
        login(m, at_hour(&days[i], h), LOGIN_ADMIN, admin, &admin_devs[spec]);
      }
    }
  }
  if (nd > 5)
    login(m, at_hour(&days[nd - 5], 3.17), LOGIN_ADMIN, 3, &admin_devs[6]);
  /* Group changes by admins. */
  for (int k = 0; k < 18; k++) {
    const day *d = &days[1 + rng_below(r, (uint64_t)(nd - 2))];
    if (d->weekday >= 5)
      continue;
    int uid = 5 + (int)rng_below(r, 190);
    int g = 2 + (int)rng_below(r, 5);
    int admin = 1 + (int)rng_below(r, 2);
    int type = (m->users[uid].groups & (1u << g)) ? EAUDIT_TYPE_GROUP_REMOVED
                                                  : EAUDIT_TYPE_GROUP_ADDED;
    admin_change(m, at_hour(d, 9.5 + rng_unit(r) * 7), type, admin, uid, g);
  }
  /* Temporary privilege: server-room access for half an hour. */
  if (nd > 8) {
    const day *d = &days[nd - 8];
    eaudit_time t = at_hour(d, 15.25);
    admin_change(m, t, EAUDIT_TYPE_GROUP_ADDED, 3, TEMP_PRIV, 7);
    door_event(m, t + 12 * MIN_US, TEMP_PRIV, SERVER_ROOM, 0);
    admin_change(m, t + 41 * MIN_US, EAUDIT_TYPE_GROUP_REMOVED, 3, TEMP_PRIV,
                 7);
  }
  /* A handful of ordinary failed attempts. */
  for (int k = 0; k < 24; k++) {
    const day *d = &days[rng_below(r, (uint64_t)nd)];
    int uid = 5 + (int)rng_below(r, 190);
    int door, reason;
    double h;
    if (k % 3 == 0) {
      door = SERVER_ROOM;
      reason = EAUDIT_REASON_NO_PERMISSION;
      h = 10 + rng_unit(r) * 6;
    } else if (k % 3 == 1) {
      door = 13;
      reason = EAUDIT_REASON_OUTSIDE_SCHEDULE;
      h = 18.2 + rng_unit(r) * 2;
    } else {
      door = 1;
      reason = EAUDIT_REASON_WRONG_CREDENTIAL;
      h = 8 + rng_unit(r) * 2;
    }
    door_event(m, at_hour(d, h), uid, door, reason);
  }
  /* A failure burst at the warehouse gate, three days ago, before it
   * opens: one person six times in eight minutes, and three others. */
  if (nd > 3) {
    const day *d = &days[nd - 4];
    eaudit_time t = at_hour(d, 5.5);
    for (int k = 0; k < 6; k++)
      door_event(m, t + k * 90 * 1000000LL, BURSTER, WAREHOUSE,
                 EAUDIT_REASON_WRONG_CREDENTIAL);
    for (int k = 0; k < 3; k++)
      door_event(m, t + (2 + k * 2) * MIN_US + 17000000LL, 101 + k, WAREHOUSE,
                 EAUDIT_REASON_OUTSIDE_SCHEDULE);
  }
  /* Keycards: registrations, a few failures, one person failing thrice. */
  for (int k = 0; k < 15; k++) {
    int uid = 5 + (int)rng_below(r, 190);
    sev *e = add(m, at_hour(&days[rng_below(r, (uint64_t)nd)],
                            9 + rng_unit(r) * 8),
                 EAUDIT_TYPE_KEYCARD_ADDED, uid);
    if (e)
      e->cred = EAUDIT_CREDENTIAL_KEYCARD;
  }
  static const int card_reasons[] = {EAUDIT_REASON_CARD_READ_ERROR,
                                     EAUDIT_REASON_CARD_UNSUPPORTED,
                                     EAUDIT_REASON_CARD_ALREADY_REGISTERED};
  for (int k = 0; k < 3; k++) {
    int uid = 5 + (int)rng_below(r, 190);
    sev *e = add(m, at_hour(&days[rng_below(r, (uint64_t)nd)],
                            9 + rng_unit(r) * 8),
                 EAUDIT_TYPE_KEYCARD_ADD_FAILED, uid);
    if (e) {
      e->cred = EAUDIT_CREDENTIAL_KEYCARD;
      e->reason = card_reasons[k];
    }
  }
  if (nd > 6) {
    eaudit_time t = at_hour(&days[nd - 6], 11.1);
    for (int k = 0; k < 3; k++) {
      sev *e = add(m, t + k * 17 * MIN_US, EAUDIT_TYPE_KEYCARD_ADD_FAILED,
                   CARD_TROUBLE);
      if (e) {
        e->cred = EAUDIT_CREDENTIAL_KEYCARD;
        e->reason = card_reasons[k % 2];
      }
    }
    sev *e = add(m, t + 70 * MIN_US, EAUDIT_TYPE_KEYCARD_ADDED, CARD_TROUBLE);
    if (e)
      e->cred = EAUDIT_CREDENTIAL_KEYCARD;
  }
  /* Credential updates, and one person changing their PIN five times. */
  static const int upd[] = {EAUDIT_REASON_QR_REGENERATED,
                            EAUDIT_REASON_PASSCODE_REGENERATED,
                            EAUDIT_REASON_PIN_CHANGED,
                            EAUDIT_REASON_KEYCARD_CHANGED};
  static const int upd_cred[] = {EAUDIT_CREDENTIAL_QR,
                                 EAUDIT_CREDENTIAL_PASSCODE,
                                 EAUDIT_CREDENTIAL_PIN,
                                 EAUDIT_CREDENTIAL_KEYCARD};
  for (int k = 0; k < 30; k++) {
    int uid = 1 + (int)rng_below(r, 195);
    sev *e = add(m, at_hour(&days[rng_below(r, (uint64_t)nd)],
                            7 + rng_unit(r) * 14),
                 EAUDIT_TYPE_USER_UPDATED, uid);
    if (e) {
      e->reason = upd[k % 4];
      e->cred = upd_cred[k % 4];
    }
  }
  if (nd > 9)
    for (int k = 0; k < 5; k++) {
      sev *e = add(m, at_hour(&days[nd - 10], 19 + k * 0.6),
                   EAUDIT_TYPE_USER_UPDATED, CHURNER);
      if (e) {
        e->reason = EAUDIT_REASON_PIN_CHANGED;
        e->cred = EAUDIT_CREDENTIAL_PIN;
      }
    }
  /* Contractors' permissions run out at 18:00; one is prolonged. */
  for (int k = 0; k < 4 && nd > 24; k++) {
    const day *d = &days[4 + k * 6];
    sev *e = add(m, at_hour(d, 18), EAUDIT_TYPE_PERMISSIONS_EXPIRED,
                 FIRST_CONTRACTOR + k);
    if (e)
      e->actor = 0;
    if (k == 1)
      admin_change(m, at_hour(d + 1, 9.3), EAUDIT_TYPE_PERMISSIONS_PROLONGED,
                   2, FIRST_CONTRACTOR + k, 0);
  }
  /* The visitors' group expires at the end of an event week. */
  if (nd > 15) {
    sev *e = add(m, at_hour(&days[nd - 15], 17), EAUDIT_TYPE_PERMISSIONS_EXPIRED,
                 0);
    if (e)
      e->group = 5;
  }
  /* Expired while inside: into the cleanroom at 17:48, permissions gone at
   * 18:00, and exit needs a check-in. Two days ago, so it is recent. */
  if (nd > 2) {
    const day *d = &days[nd - 3];
    door_event(m, at_hour(d, 8.6), TRAPPED, 1, 0);
    door_event(m, at_hour(d, 17.8), TRAPPED, CLEANROOM, 0);
    add(m, at_hour(d, 18), EAUDIT_TYPE_PERMISSIONS_EXPIRED, TRAPPED);
  }
  (void)last;
  (void)now;
}

static int cmp_sev(const void *a, const void *b) {
  const sev *x = a, *y = b;
  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  return x < y ? -1 : x > y; /* stable: keep generation order */
}

static int names(sim *m) {
  eaudit_store *s = m->s;
  int rc = eaudit_store_set_name(s, EAUDIT_KIND_SITE, SITE,
                                 "Harbour Street HQ", EAUDIT_TIME_NONE);
  for (int i = 1; rc == 0 && i <= N_DOORS; i++)
    rc = eaudit_store_set_name(s, EAUDIT_KIND_DOOR, i, door_names[i],
                               EAUDIT_TIME_NONE);
  for (int i = 1; rc == 0 && i <= N_GROUPS; i++)
    rc = eaudit_store_set_name(s, EAUDIT_KIND_GROUP, i, group_names[i],
                               EAUDIT_TIME_NONE);
  for (int i = 1; rc == 0 && i <= N_USERS; i++) {
    user *u = &m->users[i];
    if (i == RENAMED) {
      /* Married mid-month: reports show the name of the time. */
      rc = eaudit_store_set_user(s, i, "Hannah Schmidt",
                                 EAUDIT_USER_ROLE_USER, EAUDIT_TIME_NONE);
      if (rc == 0)
        rc = eaudit_store_set_user(s, i, u->name, EAUDIT_USER_ROLE_USER,
                                   m->start + 15 * DAY_US);
    } else {
      rc = eaudit_store_set_user(s, i, u->name,
                                 i <= ADMINS ? EAUDIT_USER_ROLE_ADMIN
                                             : EAUDIT_USER_ROLE_USER,
                                 EAUDIT_TIME_NONE);
    }
  }
  return rc;
}

int demo_fill(eaudit_store *s, uint64_t seed, eaudit_time end,
              void (*set_clock)(void *payload, eaudit_time t),
              void *clock_payload, progress *prog, demo_stats *st) {
  sim *m = calloc(1, sizeof *m);
  if (m == NULL)
    return EAUDIT_ENOMEM;
  m->s = s;
  m->end = end;
  rng_seed(&m->r, seed);
  eaudit_time b, e;
  int rc = eaudit_store_parse_time(s, "-1mo", end, &m->start, &e);
  /* The local days that overlap the month, oldest first. */
  day days[40];
  int nd = 0;
  eaudit_time cur = EAUDIT_TIME_NONE;
  if (rc == 0)
    rc = eaudit_store_parse_time(s, "today", end, &cur, &e);
  if (rc == 0) {
    days[0].begin = cur;
    days[0].len = e - cur;
    nd = 1;
    while (nd < 40 && days[nd - 1].begin > m->start &&
           (rc = eaudit_store_parse_time(s, "yesterday", days[nd - 1].begin,
                                         &b, &e)) == 0) {
      days[nd].begin = b;
      days[nd].len = e - b;
      nd++;
    }
    for (int i = 0; i < nd / 2; i++) {
      day t = days[i];
      days[i] = days[nd - 1 - i];
      days[nd - 1 - i] = t;
    }
    for (int i = 0; i < nd; i++)
      days[i].weekday = weekday_of(s, days[i].begin);
  }
  eaudit_device_info *info = NULL;
  size_t new_devices = 0;
  if (rc == 0) {
    set_clock(clock_payload, m->start);
    setup_users(m);
    setup_phones(m);
    rc = names(m);
  }
  /* The cleanroom is the area whose exit needs a check-in: entered at its
   * door, left at the reader inside. Alex configures it as the month
   * begins (an 'Anomaly rules changed' event). */
  static const char rules[] =
      "{\"rules\":[{\"id\":\"expired_while_inside\",\"areas\":[{\"id\":1,"
      "\"entry_doors\":[12],\"exit_doors\":[21],\"checkin_to_exit\":true}]}]}";
  if (rc == 0)
    rc = eaudit_store_set_rules(s, rules, sizeof rules - 1, 1);
  /* Phones in use before the month: seen, so known, recording nothing. */
  if (rc == 0)
    rc = eaudit_device_info_new(&info);
  for (int u = 1; rc == 0 && u <= N_USERS; u++) {
    eaudit_time at = m->start - (eaudit_time)(1 + rng_below(&m->r, 300)) *
                                    DAY_US - (eaudit_time)rng_below(&m->r,
                                                                    DAY_US);
    set_clock(clock_payload, at);
    rc = device_login(s, info, &m->phone[u], LOGIN_MOBILE, u, at, 1,
                      &new_devices);
  }
  if (rc == 0) {
    for (int k = 0; k < 4 && nd > 24; k++)
      if (k != 1) /* the second one is prolonged the next morning */
        m->expired_at[FIRST_CONTRACTOR + k] = at_hour(&days[4 + k * 6], 18);
    if (nd > 2)
      m->trapped_from = days[nd - 3].begin;
    for (int i = 0; i < nd; i++)
      for (int u = 1; u <= N_USERS; u++)
        routine(m, &days[i], u);
    incidents(m, days, nd);
    if (m->oom)
      rc = EAUDIT_ENOMEM;
  }
  if (rc == 0)
    qsort(m->ev, m->n, sizeof *m->ev, cmp_sev);
  /* Controllers upload every hour: one batch per simulated hour, recorded
   * a few seconds after the hour ends. */
  eaudit_batch *batch = NULL;
  eaudit_event *ev = NULL;
  if (rc == 0 && ((rc = eaudit_batch_new(&batch)) == 0))
    rc = eaudit_event_new(&ev);
  progress_start(prog, "demo", (int64_t)m->n);
  size_t i = 0;
  while (rc == 0 && i < m->n) {
    eaudit_time hour_end = m->ev[i].at - (m->ev[i].at - m->start) % HOUR_US +
                           HOUR_US;
    eaudit_batch_clear(batch);
    size_t in_batch = 0;
    for (; rc == 0 && i < m->n && m->ev[i].at < hour_end; i++) {
      const sev *x = &m->ev[i];
      if (x->login) {
        /* Logins are their own transactions: what came before them goes
         * first, so that seq follows occurred_at. */
        set_clock(clock_payload, x->at);
        if (in_batch) {
          rc = eaudit_store_append_batch(s, batch, NULL);
          eaudit_batch_clear(batch);
          in_batch = 0;
        }
        if (rc == 0)
          rc = device_login(s, info, &m->specs[x->spec], x->login,
                            x->subject, x->at, 0, &new_devices);
        continue;
      }
      in_batch++;
      eaudit_event_reset(ev);
      eaudit_event_set(ev, EAUDIT_FIELD_TYPE, x->type);
      eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, x->at);
      eaudit_event_set(ev, EAUDIT_FIELD_SITE, SITE);
      if (x->subject)
        eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, x->subject);
      if (x->actor)
        eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, x->actor);
      if (x->door)
        eaudit_event_set(ev, EAUDIT_FIELD_DOOR, x->door);
      if (x->group)
        eaudit_event_set(ev, EAUDIT_FIELD_GROUP, x->group);
      if (x->device)
        eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, x->device);
      if (x->cred)
        eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, x->cred);
      if (x->reason)
        eaudit_event_set(ev, EAUDIT_FIELD_REASON, x->reason);
      if (x->details)
        eaudit_event_set_details(ev, x->details, strlen(x->details));
      rc = eaudit_batch_add(batch, ev);
    }
    eaudit_time rec = hour_end + (eaudit_time)rng_below(&m->r, 20000000);
    set_clock(clock_payload, rec < end ? rec : end);
    if (rc == 0 && in_batch)
      rc = eaudit_store_append_batch(s, batch, NULL);
    progress_update(prog, (int64_t)i);
  }
  progress_end(prog);
  set_clock(clock_payload, end);
  size_t n_logins = 0;
  for (size_t k = 0; k < m->n; k++)
    n_logins += m->ev[k].login != 0;
  if (st) {
    st->events = m->n - n_logins;
    st->logins = n_logins;
    st->users = N_USERS;
    st->doors = N_DOORS;
    st->groups = N_GROUPS;
    st->devices = new_devices;
  }
  eaudit_device_info_free(info);
  free(m->specs);
  eaudit_event_free(ev);
  eaudit_batch_free(batch);
  free(m->ev);
  free(m);
  return rc;
}
