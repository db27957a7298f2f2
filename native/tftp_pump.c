// The data phase of a TFTP read (RRQ), run on a thread of its own with blocking socket calls.
//
// Why native: Node delivers each datagram through epoll, two recvmsg calls and a JS callback,
// about 10 µs of server CPU per lock-step block on the bench machine against about 3 µs for
// tftp-hpa's blocking recv/send. Lock-step TFTP is bound by exactly that round trip. Everything
// that decides anything (tenant, path, policy, options, logging) stays in TypeScript: this file
// only moves the blocks the edge has already agreed to send, from memory or from a local file,
// and reports how the transfer ended. servers/tftp/read-transfer.ts is the same state machine in
// TypeScript, used where this addon is not built or the bytes come from a stream.
//
// Rules kept identical to read-transfer.ts: only a timeout retransmits (never a duplicate ACK:
// the Sorcerer's Apprentice bug); an ACK inside the window slides it and what follows is resent
// (RFC 7440); block numbers wrap modulo 65536 on the wire; the transfer ends when the last block
// is acknowledged.

#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 64
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
// A GSO send carries at most this many bytes (one IP datagram's worth) and 64 segments.
#define GSO_MAX_BYTES 65000
#define GSO_MAX_SEGMENTS 64
// The abort flag is looked at least this often while waiting for an ACK.
#define WAIT_SLICE_MS 100
// A lone transfer spins this long for the ACK before it blocks: a blocking recv's wake-up (an
// interrupt to another core, a context switch) costs a few microseconds of a lock-step block's
// ~15 us round trip. Only while transfers leave a core idle, so it never steals CPU from work.
#define SPIN_NS 50000
static atomic_int running_pumps;
static int spin_cores;

typedef struct {
  int sock;
  // The bytes: memory (held by buffer_ref) or a local file read with pread.
  const uint8_t *mem;
  int file;
  uint64_t file_start;
  uint64_t size;
  uint32_t blksize;
  uint32_t window;
  uint8_t *oack;
  size_t oack_len;
  int retransmit_ms;
  int retries;

  atomic_int abort;
  // Per window slot: the 4-byte header and, for a file, the block's bytes.
  uint8_t headers[MAX_WINDOW][4];
  uint8_t *file_slots;
  // Windows go out as one UDP GSO send where the kernel takes it (one pass down the stack for
  // up to 64 blocks); the blocks are laid end to end here for it.
  uint8_t *gso;

  // The result, read on the JS thread once the pump thread is done with it.
  const char *outcome;
  uint64_t sent;
  int sys_errno;
  int client_code;
  char client_message[128];
  uint64_t abandoned_block;

  napi_ref buffer_ref;
  napi_threadsafe_function done;
} Pump;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_error(Pump *p, int code, const char *message) {
  uint8_t packet[160];
  size_t len = strlen(message);
  if (len > sizeof packet - 5) len = sizeof packet - 5;
  packet[0] = 0;
  packet[1] = 5;
  packet[2] = (uint8_t)(code >> 8);
  packet[3] = (uint8_t)code;
  memcpy(packet + 4, message, len);
  packet[4 + len] = 0;
  (void)send(p->sock, packet, 5 + len, 0);
}

static uint32_t block_length(const Pump *p, uint64_t block, uint64_t last) {
  if (block < last) return p->blksize;
  return (uint32_t)(p->size - (last - 1) * (uint64_t)p->blksize);
}

// Points iov at block's bytes, reading them from the file the first time (fresh = 1).
static int block_bytes(Pump *p, uint64_t block, uint64_t last, int fresh, struct iovec *iov) {
  uint32_t len = block_length(p, block, last);
  uint64_t offset = (block - 1) * (uint64_t)p->blksize;
  if (p->mem) {
    iov->iov_base = (void *)(p->mem + offset);
    iov->iov_len = len;
    return 0;
  }
  uint8_t *slot = p->file_slots + (size_t)(block % p->window) * p->blksize;
  if (fresh) {
    uint32_t got = 0;
    while (got < len) {
      ssize_t n = pread(p->file, slot + got, len - got, (off_t)(p->file_start + offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;  // gone or shorter than the agreed size
      got += (uint32_t)n;
    }
  }
  iov->iov_base = slot;
  iov->iov_len = len;
  return 0;
}

static int send_mmsg(Pump *p, uint64_t from, uint64_t to, uint64_t last, int fresh);

// Cleared for the whole process the first time the kernel refuses UDP_SEGMENT.
static atomic_int gso_works = 1;

// Sends blocks [from, to) as one GSO datagram; 1 = the kernel refused GSO, so nothing was sent.
static int send_gso(Pump *p, uint64_t from, uint64_t to, uint64_t last, int fresh) {
  size_t segment = 4 + (size_t)p->blksize;
  size_t total = 0;
  for (uint64_t b = from; b < to; b++) {
    struct iovec data;
    if (block_bytes(p, b, last, fresh, &data) != 0) return -2;
    uint8_t *out = p->gso + total;
    out[0] = 0;
    out[1] = 3;
    out[2] = (uint8_t)(b >> 8);
    out[3] = (uint8_t)b;
    memcpy(out + 4, data.iov_base, data.iov_len);
    total += 4 + data.iov_len;
  }
  struct iovec iov = {p->gso, total};
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t size = (uint16_t)segment;
  memcpy(CMSG_DATA(cm), &size, sizeof size);
  for (;;) {
    if (sendmsg(p->sock, &msg, 0) >= 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
      atomic_store(&gso_works, 0);
      return 1;
    }
    return -1;
  }
}

// Sends blocks [from, to); fresh = they are sent for the first time.
static int send_blocks(Pump *p, uint64_t from, uint64_t to, uint64_t last, int fresh) {
  uint64_t per_send = GSO_MAX_BYTES / (4 + (uint64_t)p->blksize);
  if (per_send > GSO_MAX_SEGMENTS) per_send = GSO_MAX_SEGMENTS;
  if (p->gso && to - from >= 2 && per_send >= 2 && atomic_load(&gso_works)) {
    while (from < to) {
      uint64_t end = to - from > per_send ? from + per_send : to;
      int rc = end - from >= 2 ? send_gso(p, from, end, last, fresh) : send_mmsg(p, from, end, last, fresh);
      if (rc == 1) break;  // GSO refused: the rest goes block by block
      if (rc != 0) return rc;
      from = end;
    }
    if (from >= to) return 0;
  }
  return send_mmsg(p, from, to, last, fresh);
}

// Sends blocks [from, to) in one sendmmsg.
static int send_mmsg(Pump *p, uint64_t from, uint64_t to, uint64_t last, int fresh) {
  struct mmsghdr msgs[MAX_WINDOW];
  struct iovec iovs[MAX_WINDOW][2];
  unsigned count = 0;
  for (uint64_t b = from; b < to; b++, count++) {
    uint8_t *h = p->headers[b % p->window];
    h[0] = 0;
    h[1] = 3;
    h[2] = (uint8_t)(b >> 8);
    h[3] = (uint8_t)b;
    iovs[count][0].iov_base = h;
    iovs[count][0].iov_len = 4;
    if (block_bytes(p, b, last, fresh, &iovs[count][1]) != 0) return -2;
    memset(&msgs[count], 0, sizeof msgs[count]);
    msgs[count].msg_hdr.msg_iov = iovs[count];
    msgs[count].msg_hdr.msg_iovlen = 2;
  }
  unsigned done = 0;
  while (done < count) {
    int n = sendmmsg(p->sock, msgs + done, count - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (unsigned)n;
  }
  return 0;
}

static void finish(Pump *p, const char *outcome, int sys_errno) {
  p->outcome = outcome;
  p->sys_errno = sys_errno;
}

static void *run(void *arg) {
  Pump *p = arg;
  atomic_fetch_add(&running_pumps, 1);
  uint64_t last = p->size / p->blksize + 1;  // the last block is always short, maybe empty
  uint64_t base = 1, next = 1;
  int waiting_oack = p->oack != NULL;
  int tries = 0;
  uint8_t in[516];

  struct timeval slice = {0, WAIT_SLICE_MS * 1000};
  setsockopt(p->sock, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice);

  int rc;
  if (waiting_oack) {
    rc = send(p->sock, p->oack, p->oack_len, 0) < 0 ? -1 : 0;
  } else {
    uint64_t to = last + 1 < base + p->window ? last + 1 : base + p->window;
    rc = send_blocks(p, next, to, last, 1);
    if (rc == 0) next = to;
  }
  int64_t deadline = now_ms() + p->retransmit_ms;

  while (rc == 0) {
    if (atomic_load(&p->abort)) {
      finish(p, "aborted", 0);
      break;
    }
    ssize_t n = -1;
    int idle = 1;
    if (atomic_load(&running_pumps) * 2 <= spin_cores) {
      struct timespec start, now;
      clock_gettime(CLOCK_MONOTONIC, &start);
      for (;;) {
        n = recv(p->sock, in, sizeof in, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          idle = 0;
          break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > SPIN_NS) break;
      }
    }
    if (idle) n = recv(p->sock, in, sizeof in, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        rc = -1;
        break;
      }
      if (now_ms() < deadline) continue;
      tries += 1;
      if (tries > p->retries) {
        p->abandoned_block = base;
        finish(p, "abandoned", 0);
        break;
      }
      if (waiting_oack) rc = send(p->sock, p->oack, p->oack_len, 0) < 0 ? -1 : 0;
      else rc = send_blocks(p, base, next, last, 0);
      deadline = now_ms() + p->retransmit_ms;
      continue;
    }
    int op = n >= 4 ? (in[0] << 8) | in[1] : -1;
    if (op == 4) {
      unsigned wire = (in[2] << 8) | in[3];
      if (waiting_oack) {
        // Anything but ACK 0 is a stray; the OACK is repeated on timeout.
        if (wire != 0) continue;
        waiting_oack = 0;
      } else {
        unsigned ahead = (wire - (unsigned)((base - 1) & 0xffff)) & 0xffff;
        // 0: a duplicate; beyond what was sent: an old ACK from 65536 blocks ago.
        if (ahead == 0 || ahead > next - base) continue;
        uint64_t acked = base - 1 + ahead;
        if (acked == last) {
          finish(p, "complete", 0);
          break;
        }
        base = acked + 1;
        // A partial window was acknowledged: the client dropped what followed.
        if (base < next) rc = send_blocks(p, base, next, last, 0);
      }
      tries = 0;
      deadline = now_ms() + p->retransmit_ms;
      uint64_t limit = base + p->window;
      uint64_t to = last + 1 < limit ? last + 1 : limit;
      if (rc == 0 && next < to) {
        rc = send_blocks(p, next, to, last, 1);
        if (rc == 0) next = to;
      }
    } else if (op == 5) {
      p->client_code = (in[2] << 8) | in[3];
      size_t len = (size_t)n - 4;
      if (len >= sizeof p->client_message) len = sizeof p->client_message - 1;
      memcpy(p->client_message, in + 4, len);
      p->client_message[len] = 0;
      p->client_message[strnlen(p->client_message, len)] = 0;
      finish(p, "client-error", 0);
      break;
    } else {
      send_error(p, 4, "expected an ACK");
      p->client_code = op;
      finish(p, "illegal", 0);
      break;
    }
  }
  if (rc == -1) finish(p, errno == ECONNREFUSED ? "unreachable" : "socket-failed", errno);
  if (rc == -2) {
    send_error(p, 0, "read error");
    finish(p, "read-failed", errno);
  }
  p->sent = next - 1;
  close(p->sock);
  p->sock = -1;
  if (p->file >= 0) close(p->file);
  p->file = -1;
  atomic_fetch_sub(&running_pumps, 1);
  napi_call_threadsafe_function(p->done, p, napi_tsfn_blocking);
  napi_release_threadsafe_function(p->done, napi_tsfn_release);
  return NULL;
}

// On the JS thread: report the result, let go of the bytes.
static void call_done(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  Pump *p = data;
  if (env == NULL) return;
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, p->outcome, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "outcome", v);
  napi_create_double(env, (double)p->sent, &v);
  napi_set_named_property(env, result, "sent", v);
  napi_create_int32(env, p->sys_errno, &v);
  napi_set_named_property(env, result, "errno", v);
  napi_create_int32(env, p->client_code, &v);
  napi_set_named_property(env, result, "clientCode", v);
  napi_create_string_utf8(env, p->client_message, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "clientMessage", v);
  napi_create_double(env, (double)p->abandoned_block, &v);
  napi_set_named_property(env, result, "abandonedBlock", v);
  if (p->buffer_ref) {
    napi_delete_reference(env, p->buffer_ref);
    p->buffer_ref = NULL;
  }
  napi_value global;
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 1, &result, NULL);
}

static void free_pump(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Pump *p = data;
  free(p->file_slots);
  free(p->gso);
  free(p->oack);
  free(p);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static int parse_address(const char *text, int port, int family, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    *len = sizeof *a;
    return inet_pton(AF_INET6, text, &a->sin6_addr) == 1 ? 0 : -1;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)out;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  *len = sizeof *a;
  return inet_pton(AF_INET, text, &a->sin_addr) == 1 ? 0 : -1;
}

// start({ family, localAddress, peerAddress, peerPort, data?, path?, start, size, blksize,
//         windowsize, oack?, retransmitMs, retries }, done) -> handle
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_error(env, "start(options, done)");
  napi_value o = argv[0], v;
  char local[64], peer[64], path[4096];
  size_t got;
  int32_t family, peer_port, blksize, window, retransmit_ms, retries;
  double start_at, size;
  bool has;

#define GET_INT(name, var)                                                   \
  if (napi_get_named_property(env, o, name, &v) != napi_ok ||               \
      napi_get_value_int32(env, v, &var) != napi_ok)                         \
    return throw_error(env, "option " name " must be a number");
#define GET_DOUBLE(name, var)                                                \
  if (napi_get_named_property(env, o, name, &v) != napi_ok ||               \
      napi_get_value_double(env, v, &var) != napi_ok)                        \
    return throw_error(env, "option " name " must be a number");
#define GET_STRING(name, buf)                                                \
  if (napi_get_named_property(env, o, name, &v) != napi_ok ||               \
      napi_get_value_string_utf8(env, v, buf, sizeof buf, &got) != napi_ok) \
    return throw_error(env, "option " name " must be a string");

  GET_INT("family", family);
  GET_STRING("localAddress", local);
  GET_STRING("peerAddress", peer);
  GET_INT("peerPort", peer_port);
  GET_DOUBLE("start", start_at);
  GET_DOUBLE("size", size);
  GET_INT("blksize", blksize);
  GET_INT("windowsize", window);
  GET_INT("retransmitMs", retransmit_ms);
  GET_INT("retries", retries);
  if (blksize < 8 || blksize > 65464) return throw_error(env, "blksize out of range");
  if (window < 1 || window > MAX_WINDOW) return throw_error(env, "windowsize out of range");
  if (size < 0 || start_at < 0) return throw_error(env, "size and start must not be negative");

  Pump *p = calloc(1, sizeof *p);
  if (!p) return throw_error(env, "out of memory");
  p->sock = -1;
  p->file = -1;
  p->file_start = (uint64_t)start_at;
  p->size = (uint64_t)size;
  p->blksize = (uint32_t)blksize;
  p->window = (uint32_t)window;
  p->retransmit_ms = retransmit_ms;
  p->retries = retries;
  const char *failure = NULL;

  napi_valuetype data_type = napi_undefined;
  napi_has_named_property(env, o, "data", &has);
  if (has) {
    napi_get_named_property(env, o, "data", &v);
    napi_typeof(env, v, &data_type);
  }
  if (data_type != napi_undefined && data_type != napi_null) {
    void *bytes;
    size_t length;
    if (napi_get_buffer_info(env, v, &bytes, &length) != napi_ok || length < p->size) {
      failure = "data must be a Buffer of at least size bytes";
      goto fail;
    }
    p->mem = bytes;
    napi_create_reference(env, v, 1, &p->buffer_ref);
  } else {
    GET_STRING("path", path);
    p->file = open(path, O_RDONLY | O_CLOEXEC);
    if (p->file < 0) {
      failure = "cannot open the file";
      goto fail;
    }
    p->file_slots = malloc((size_t)p->window * p->blksize);
    if (!p->file_slots) {
      failure = "out of memory";
      goto fail;
    }
  }
  if (p->window > 1) {
    uint64_t per_send = GSO_MAX_BYTES / (4 + (uint64_t)p->blksize);
    if (per_send > GSO_MAX_SEGMENTS) per_send = GSO_MAX_SEGMENTS;
    if (per_send > p->window) per_send = p->window;
    if (per_send >= 2) p->gso = malloc((size_t)per_send * (4 + p->blksize));
  }
  napi_has_named_property(env, o, "oack", &has);
  if (has) {
    napi_get_named_property(env, o, "oack", &v);
    void *bytes;
    size_t length;
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_null && t != napi_undefined) {
      if (napi_get_buffer_info(env, v, &bytes, &length) != napi_ok || length == 0 || length > 512) {
        failure = "oack must be a Buffer of 1 to 512 bytes";
        goto fail;
      }
      p->oack = malloc(length);
      memcpy(p->oack, bytes, length);
      p->oack_len = length;
    }
  }

  struct sockaddr_storage local_addr, peer_addr;
  socklen_t local_len, peer_len;
  if (parse_address(local, 0, family, &local_addr, &local_len) != 0 ||
      parse_address(peer, peer_port, family, &peer_addr, &peer_len) != 0) {
    failure = "not a numeric address of the socket's family";
    goto fail;
  }
  p->sock = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (p->sock < 0 || bind(p->sock, (struct sockaddr *)&local_addr, local_len) != 0 ||
      connect(p->sock, (struct sockaddr *)&peer_addr, peer_len) != 0) {
    failure = "cannot open the transfer socket";
    goto fail;
  }

  napi_value name;
  napi_create_string_utf8(env, "tftpPump", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, p, free_pump, NULL, call_done, &p->done) != napi_ok) {
    failure = "cannot create the completion callback";
    goto fail;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  int err = pthread_create(&thread, &attr, run, p);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    // The threadsafe function owns p now: its finalizer frees it once released.
    close(p->sock);
    if (p->file >= 0) close(p->file);
    if (p->buffer_ref) napi_delete_reference(env, p->buffer_ref);
    p->buffer_ref = NULL;
    napi_release_threadsafe_function(p->done, napi_tsfn_abort);
    return throw_error(env, "cannot start the transfer thread");
  }
  napi_value handle;
  napi_create_external(env, p, NULL, NULL, &handle);
  return handle;

fail:
  if (p->sock >= 0) close(p->sock);
  if (p->file >= 0) close(p->file);
  if (p->buffer_ref) napi_delete_reference(env, p->buffer_ref);
  free(p->file_slots);
  free(p->gso);
  free(p->oack);
  free(p);
  return throw_error(env, failure);
}

// abort(handle): the transfer ends within WAIT_SLICE_MS. Only called before `done` has run.
static napi_value abort_transfer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) return throw_error(env, "abort(handle)");
  atomic_store(&((Pump *)data)->abort, 1);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  spin_cores = cores > 0 ? (int)cores : 1;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  napi_create_function(env, "abort", NAPI_AUTO_LENGTH, abort_transfer, NULL, &fn);
  napi_set_named_property(env, exports, "abort", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
