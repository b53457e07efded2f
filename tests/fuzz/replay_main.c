/* Replays a harness's saved corpus as an ordinary test: every file under
 * the directories (or the files) given goes through LLVMFuzzerTestOneInput.
 * Fails when no input was found. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long replayed;

static void one(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "short read %s\n", path);
    exit(1);
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  replayed++;
}

static void walk(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "no such corpus %s\n", path);
    exit(1);
  }
  if (!S_ISDIR(st.st_mode)) {
    one(path);
    return;
  }
  DIR *d = opendir(path);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    walk(sub);
  }
  closedir(d);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    walk(argv[i]);
  printf("RELIABILITY fuzz-replay %s inputs=%ld findings=0\n",
         argc > 1 ? argv[1] : "-", replayed);
  return replayed > 0 ? 0 : 1;
}
