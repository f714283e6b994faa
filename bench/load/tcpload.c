/*
 * Load generator for the non-HTTP loads, in C: the Node one (tcp.mjs) saturates its own core at about
 * 20k connections/s, below what a Node server does on one core, so one-shot figures measured the client.
 * One thread, epoll, non-blocking sockets; it never waits on one connection while others are ready.
 *
 *   tcpload oneshot PORT CONNECTIONS SECONDS SEND   connect, send, half-close, read until EOF, repeat
 *   tcpload echo    PORT CONNECTIONS SECONDS SIZE   ping-pong of a SIZE-byte line per connection
 *   tcpload burst   PORT COUNT SEND                 COUNT connections at once, each until EOF
 *
 * Prints one JSON line as tcp.mjs does: {"rps":…,"p50Ms":…,"p99Ms":…,"errors":…} or, for burst,
 * {"seconds":…,"errors":…}. SEND may contain "\n" escapes. Only 127.0.0.1 is ever a target.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { ONESHOT, ECHO, BURST };
enum state { CONNECTING, READING };

struct slot {
  int fd;
  enum state state;
  double started;   /* ms, when this request began */
  double retry_at;  /* ms; a slot whose last attempt failed waits until then (0 = not waiting) */
  size_t received;  /* bytes of the current reply */
  size_t sent;      /* bytes of the current request written */
};

static enum kind kind;
static struct sockaddr_in target;
static char *payload;
static size_t payload_len;
static int epfd;
static double *latencies;
static size_t latency_count, latency_cap;
static long completed, errors;
static int running = 1;
static double deadline;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void record(double ms) {
  if (latency_count == latency_cap) {
    latency_cap = latency_cap ? latency_cap * 2 : 65536;
    latencies = realloc(latencies, latency_cap * sizeof *latencies);
    if (!latencies) {
      perror("realloc");
      exit(1);
    }
  }
  latencies[latency_count++] = ms;
}

/* Undoes the harness's escapes (\\n, \\r, \\\\) so a line fits in one argument. */
static size_t unescape(char *text) {
  char *out = text;
  for (char *in = text; *in; in++) {
    if (in[0] == '\\' && in[1] == 'n') {
      *out++ = '\n';
      in++;
    } else if (in[0] == '\\' && in[1] == 'r') {
      *out++ = '\r';
      in++;
    } else if (in[0] == '\\' && in[1] == '\\') {
      *out++ = '\\';
      in++;
    } else {
      *out++ = *in;
    }
  }
  *out = 0;
  return (size_t)(out - text);
}

static void watch(struct slot *s, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.ptr = s};
  if (epoll_ctl(epfd, op, s->fd, &ev) < 0) {
    perror("epoll_ctl");
    exit(1);
  }
}

/* Starts a new connection in slot s; returns 0 when the socket could not even be created. */
static int open_slot(struct slot *s) {
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) return 0;
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* The client side of each closed connection sits in TIME_WAIT for 60 s, and one source address has
   * only ~28k ports toward the server's port: at 15k connections/s they run out within two seconds
   * and connect() crawls. Source addresses cycle through 127.0.1.1-254 (all loopback; the port is
   * picked at connect time), so the 4-tuples last for the whole run. */
  static unsigned next_source;
  struct sockaddr_in source = {.sin_family = AF_INET};
  source.sin_addr.s_addr = htonl((127u << 24) | (1u << 8) | (1u + next_source++ % 254u));
  setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (bind(s->fd, (struct sockaddr *)&source, sizeof source) < 0) {
    close(s->fd);
    s->fd = -1;
    return 0;
  }
  s->state = CONNECTING;
  s->received = 0;
  s->sent = 0;
  s->started = now_ms();
  if (connect(s->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    close(s->fd);
    s->fd = -1;
    return 0;
  }
  watch(s, EPOLLOUT, EPOLL_CTL_ADD);
  return 1;
}

static void close_slot(struct slot *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

/* One request is over (ok or not): count it and, while the run lasts, start the next in this slot. */
static void finish(struct slot *s, int ok) {
  if (ok) {
    completed++;
    record(now_ms() - s->started);
  } else {
    errors++;
  }
  if (kind == ECHO && ok) {
    if (!running) {
      close_slot(s);
      return;
    }
    s->started = now_ms();
    s->received = 0;
    if (write(s->fd, payload, payload_len) != (ssize_t)payload_len) {
      errors++;
      close_slot(s);
    }
    return;
  }
  close_slot(s);
  if (kind != BURST && running) {
    /* A failed attempt is retried 1 ms later, not in a tight loop that would load the client's core. */
    if (!ok) s->retry_at = now_ms() + 1;
    else if (!open_slot(s)) {
      errors++;
      s->retry_at = now_ms() + 1;
    }
  }
}

static void on_event(struct slot *s, uint32_t events) {
  if (s->state == CONNECTING) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error || (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT))) {
      finish(s, 0);
      return;
    }
    ssize_t n = write(s->fd, payload, payload_len);
    if (n != (ssize_t)payload_len) {
      finish(s, 0);
      return;
    }
    /* One-shot requests end with a FIN, as the Node generator's socket.end(send) does. */
    if (kind != ECHO) shutdown(s->fd, SHUT_WR);
    s->state = READING;
    watch(s, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    return;
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = read(s->fd, buffer, sizeof buffer);
    if (n > 0) {
      s->received += (size_t)n;
      if (kind == ECHO && s->received >= payload_len) {
        finish(s, 1);
        return;
      }
      continue;
    }
    if (n == 0) {
      /* EOF: a one-shot reply is complete; an echo connection closing early is an error. */
      finish(s, kind != ECHO && s->received > 0);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    finish(s, 0);
    return;
  }
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(double q) {
  size_t index = (size_t)(q * latency_count);
  if (index >= latency_count) index = latency_count - 1;
  return latencies[index];
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: tcpload oneshot|echo PORT CONNECTIONS SECONDS SEND|SIZE | burst PORT COUNT SEND\n");
    return 2;
  }
  if (!strcmp(argv[1], "oneshot")) kind = ONESHOT;
  else if (!strcmp(argv[1], "echo")) kind = ECHO;
  else if (!strcmp(argv[1], "burst")) kind = BURST;
  else {
    fprintf(stderr, "unknown load kind %s\n", argv[1]);
    return 2;
  }
  if (kind != BURST && argc < 6) {
    fprintf(stderr, "usage: tcpload %s PORT CONNECTIONS SECONDS %s\n", argv[1], kind == ECHO ? "SIZE" : "SEND");
    return 2;
  }
  int port = atoi(argv[2]);
  int connections = atoi(argv[3]);
  double seconds = kind == BURST ? 0 : atof(argv[4]);
  if (port <= 0 || port > 65535 || connections <= 0) {
    fprintf(stderr, "bad port or connection count\n");
    return 2;
  }
  if (kind == ECHO) {
    long size = atol(argv[5]);
    if (size < 1) size = 1;
    payload_len = (size_t)size;
    payload = malloc(payload_len);
    memset(payload, 'x', payload_len - 1);
    payload[payload_len - 1] = '\n';
  } else {
    payload = strdup(kind == BURST ? argv[4] : argv[5]);
    payload_len = unescape(payload);
  }
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct slot *slots = calloc((size_t)connections, sizeof *slots);
  double start = now_ms();
  deadline = start + seconds * 1e3;
  int open = 0;
  for (int i = 0; i < connections; i++) {
    slots[i].fd = -1;
    if (open_slot(&slots[i])) open++;
    else {
      errors++;
      if (kind != BURST) slots[i].retry_at = start + 1;
    }
  }
  struct epoll_event events[256];
  /* Each wait is bounded so the deadline is seen; a slot whose reply never comes is cut at +10 s. */
  for (;;) {
    double t = now_ms();
    if (kind != BURST && running && t >= deadline) running = 0;
    int live = 0, waiting = 0;
    for (int i = 0; i < connections; i++) {
      if (slots[i].fd < 0 && slots[i].retry_at > 0) {
        if (!running) {
          slots[i].retry_at = 0;
        } else if (t >= slots[i].retry_at) {
          slots[i].retry_at = 0;
          if (!open_slot(&slots[i])) {
            errors++;
            slots[i].retry_at = t + 1;
          }
        }
        if (slots[i].retry_at > 0) waiting++;
      }
      if (slots[i].fd < 0) continue;
      if (t - slots[i].started > 10e3) {
        finish(&slots[i], 0);
        if (slots[i].fd < 0) continue;
      }
      live++;
    }
    if (!live && !waiting) break;
    int n = epoll_wait(epfd, events, 256, waiting ? 1 : 100);
    if (n < 0 && errno != EINTR) {
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
  }
  double elapsed = now_ms() - start;
  if (kind == BURST) {
    printf("{\"seconds\":%.6f,\"errors\":%ld}\n", elapsed / 1e3, errors);
    return 0;
  }
  if (latency_count == 0) {
    printf("{\"rps\":0,\"errors\":%ld}\n", errors);
    return 0;
  }
  qsort(latencies, latency_count, sizeof *latencies, compare);
  printf("{\"rps\":%.3f,\"p50Ms\":%.6f,\"p99Ms\":%.6f,\"errors\":%ld}\n", completed / (elapsed / 1e3),
         percentile(0.5), percentile(0.99), errors);
  return 0;
}
