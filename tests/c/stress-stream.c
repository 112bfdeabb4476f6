/* stress-stream.c - several threads write lines into one buffered stream
 * over a pipe while several others read lines from a second stream over
 * its other end: every line arrives exactly once and intact. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream-util.h"

#define WRITERS 4
#define READERS 4
#define MAX_PAYLOAD 600

static long lines_per_writer;
static weft_handle wstream, rstream;
static _Atomic int *seen; /* [WRITERS * lines_per_writer] */
static _Atomic long bad_lines, failed_calls;

static size_t payload_len(int id, long seq) {
  return (size_t)((seq * 37 + id * 11) % MAX_PAYLOAD);
}

static char payload_at(int id, long seq, size_t k) {
  return (char)('a' + (size_t)(id * 7 + seq * 13 + (long)k) % 26);
}

static void *writer(void *arg) {
  int id = (int)(long)arg;
  char line[MAX_PAYLOAD + 64];
  for (long seq = 0; seq < lines_per_writer; seq++) {
    int head = snprintf(line, sizeof line, "w%d %ld ", id, seq);
    size_t len = payload_len(id, seq);
    for (size_t k = 0; k < len; k++)
      line[head + k] = payload_at(id, seq, k);
    line[head + len] = '\n';
    size_t total = (size_t)head + len + 1, written = 0;
    weft_status st = weft_stream_write(wstream, line, total, &written);
    if (st != 0 || written != total)
      atomic_fetch_add(&failed_calls, 1);
  }
  return NULL;
}

/* Check one line: "w<id> <seq> <payload>\n". */
static void check_line(const char *line, size_t n) {
  int id, head = 0;
  long seq;
  /* %n right after the number: a " " directive would also eat the
   * newline of an empty payload. */
  if (n == 0 || line[n - 1] != '\n' ||
      sscanf(line, "w%d %ld%n", &id, &seq, &head) != 2 ||
      line[head++] != ' ' || id < 0 || id >= WRITERS || seq < 0 ||
      seq >= lines_per_writer) {
    atomic_fetch_add(&bad_lines, 1);
    return;
  }
  size_t len = payload_len(id, seq);
  int intact = n == (size_t)head + len + 1;
  for (size_t k = 0; intact && k < len; k++)
    intact = line[head + k] == payload_at(id, seq, k);
  if (!intact) {
    atomic_fetch_add(&bad_lines, 1);
    return;
  }
  atomic_fetch_add(&seen[(long)id * lines_per_writer + seq], 1);
}

static void *reader(void *arg) {
  (void)arg;
  char line[MAX_PAYLOAD + 64];
  for (;;) {
    size_t n = 0;
    weft_status st = weft_stream_readline(rstream, -1, line, sizeof line, &n);
    if (st != 0) {
      atomic_fetch_add(&failed_calls, 1);
      return NULL;
    }
    if (n == 0)
      return NULL; /* the end: every writer is done */
    check_line(line, n);
  }
}

int main(void) {
  lines_per_writer = stress_n(50000);
  seen = calloc((size_t)(WRITERS * lines_per_writer), sizeof *seen);
  int p[2];
  mkpipe(p);
  wstream = mkstream(p[1], "w", 512);
  rstream = mkstream(p[0], "r", 256);
  close(p[0]);
  close(p[1]);
  pthread_t w[WRITERS], r[READERS];
  for (int i = 0; i < READERS; i++)
    r[i] = spawn(reader, NULL);
  for (int i = 0; i < WRITERS; i++)
    w[i] = spawn(writer, (void *)(long)i);
  for (int i = 0; i < WRITERS; i++)
    pthread_join(w[i], NULL);
  is(weft_close(wstream), 0, "closing the writing stream flushes it");
  for (int i = 0; i < READERS; i++)
    pthread_join(r[i], NULL);
  is(atomic_load(&failed_calls), 0, "no call failed");
  is(atomic_load(&bad_lines), 0, "every line read is intact");
  long missing = 0, twice = 0;
  for (long i = 0; i < WRITERS * lines_per_writer; i++) {
    int c = atomic_load(&seen[i]);
    missing += c == 0;
    twice += c > 1;
  }
  is(missing, 0, "every one of %ld lines arrived",
     (long)WRITERS * lines_per_writer);
  is(twice, 0, "none arrived twice");
  is(weft_close(rstream), 0, "close the reading stream");
  free(seen);
  return done_testing();
}
