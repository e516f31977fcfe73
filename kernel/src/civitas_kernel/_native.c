/* The per-event loops of reading a cut, in C: walking a block's frames, hashing each sealed envelope, and
 * grouping equal addresses (interning.py).
 *
 * Everything else about a cut is read over whole arrays with numpy (frames.py, bulk_verify.py); these loops
 * touch every event one at a time, so in Python they were most of a record's time. SHA-256 is OpenSSL's (the
 * library Python's own hashlib uses), so the digests are the ones hashlib gives. native.py is the Python face of
 * this module and falls back to plain Python when it was not built.
 */

#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: the one-shot low-level calls, no EVP per event */
#include <Python.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

/* walk_frames(data, pos, limit) -> (starts: bytes of native int64, end: int)
 * The starts of the whole frames from pos (each a 4-byte big-endian length, then that many bytes) that end at or
 * before limit, and where the last of them ends: what native.plain_walk_frames returns, as a buffer numpy reads. */
static PyObject *walk_frames(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &limit))
        return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t n = view.len;
    if (pos < 0 || limit < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pos and limit must not be negative");
        return NULL;
    }
    Py_ssize_t capacity = 1024, count = 0;
    int64_t *starts = PyMem_Malloc(capacity * sizeof(int64_t));
    if (!starts) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    int64_t p = pos;
    while (p + 4 <= n) {
        if (count == capacity) {
            capacity *= 2;
            int64_t *grown = PyMem_Realloc(starts, capacity * sizeof(int64_t));
            if (!grown) {
                PyMem_Free(starts);
                PyBuffer_Release(&view);
                return PyErr_NoMemory();
            }
            starts = grown;
        }
        starts[count++] = p;
        const unsigned char *at = data + p;
        uint32_t length = ((uint32_t)at[0] << 24) | ((uint32_t)at[1] << 16) | ((uint32_t)at[2] << 8) | at[3];
        p += 4 + (int64_t)length;
    }
    while (count && p > limit)  /* the last frames run past the data: drop them, walking back */
        p = starts[--count];
    PyBuffer_Release(&view);
    PyObject *found = PyBytes_FromStringAndSize((const char *)starts, count * (Py_ssize_t)sizeof(int64_t));
    PyMem_Free(starts);
    if (!found)
        return NULL;
    return Py_BuildValue("(Nn)", found, (Py_ssize_t)p);
}

/* Whether starts and stops are int64 buffers of one length whose every span lies in data; if not, a ValueError
 * is set saying which. What both calls over spans check before they read a byte. */
static int spans_inside(const Py_buffer *data, const Py_buffer *starts, const Py_buffer *stops) {
    if (starts->len % sizeof(int64_t) || stops->len != starts->len) {
        PyErr_SetString(PyExc_ValueError, "starts and stops must be int64 buffers of one length");
        return 0;
    }
    const int64_t *a = starts->buf, *b = stops->buf;
    for (Py_ssize_t i = 0; i < starts->len / (Py_ssize_t)sizeof(int64_t); i++) {
        if (a[i] < 0 || a[i] > b[i] || b[i] > data->len) {
            PyErr_Format(PyExc_ValueError, "span %zd (%lld..%lld) is not inside the data", i, (long long)a[i],
                         (long long)b[i]);
            return 0;
        }
    }
    return 1;
}

/* The buffers of a call over spans (data, starts, ends), parsed and checked: 0 with the exception set when they are
 * not (and nothing left to release). */
static void release_spans(Py_buffer *data, Py_buffer *starts, Py_buffer *stops) {
    PyBuffer_Release(data);
    PyBuffer_Release(starts);
    PyBuffer_Release(stops);
}

static int spans_args(PyObject *args, Py_buffer *data, Py_buffer *starts, Py_buffer *stops) {
    if (!PyArg_ParseTuple(args, "y*y*y*", data, starts, stops))
        return 0;
    if (spans_inside(data, starts, stops))
        return 1;
    release_spans(data, starts, stops);
    return 0;
}

struct hash_job {
    const unsigned char *data;
    const int64_t *starts, *stops;
    Py_ssize_t first, last; /* rows first..last-1 */
    const SHA256_CTX *prefixed;
    unsigned char *out;
};

static void *hash_rows(void *arg) {
    struct hash_job *job = arg;
    for (Py_ssize_t i = job->first; i < job->last; i++) {
        SHA256_CTX ctx = *job->prefixed; /* the prefix hashed once, copied per event */
        SHA256_Update(&ctx, job->data + job->starts[i], (size_t)(job->stops[i] - job->starts[i]));
        SHA256_Final(job->out + 32 * i, &ctx);
    }
    return NULL;
}

/* hash_spans(data, starts, stops, prefix, threads) -> bytes: SHA-256(prefix + data[starts[i]:stops[i]]) for each
 * i, the 32-byte digests one after another. starts and stops are buffers of native int64; every span must lie in
 * data. The GIL is released while hashing, and `threads` (1 or more) share the rows. */
static PyObject *hash_spans(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops, prefix;
    int threads;
    if (!PyArg_ParseTuple(args, "y*y*y*y*i", &data, &starts, &stops, &prefix, &threads))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *a = starts.buf, *b = stops.buf;
    if (!spans_inside(&data, &starts, &stops))
        goto done;
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (rows < 4096 * threads)
        threads = 1; /* a thread costs more than it saves on a short run */
    result = PyBytes_FromStringAndSize(NULL, rows * 32);
    if (!result)
        goto done;
    SHA256_CTX prefixed;
    SHA256_Init(&prefixed);
    SHA256_Update(&prefixed, prefix.buf, (size_t)prefix.len);
    struct hash_job jobs[16];
    pthread_t ids[16];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct hash_job){data.buf, a, b, rows * t / threads, rows * (t + 1) / threads, &prefixed,
                                    (unsigned char *)PyBytes_AS_STRING(result)};
    }
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, hash_rows, &jobs[t]) != 0)
            break;
        started = t;
    }
    for (int t = started + 1; t < threads; t++) /* threads that could not start: their rows here */
        hash_rows(&jobs[t]);
    hash_rows(&jobs[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(ids[t], NULL);
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&stops);
    PyBuffer_Release(&prefix);
    return result;
}

static inline uint64_t span_hash(const unsigned char *p, size_t n) {
    /* A fast 64-bit mix of a span, eight bytes at a time; equal spans are then told apart by their bytes. */
    uint64_t h = 0x243F6A8885A308D3ULL ^ (n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
}

/* A varint of at most `most` bytes at p, ending before `limit`: its value and length, or 0 when it does not end. */
static inline int varint(const unsigned char *p, const unsigned char *limit, int most, uint64_t *value) {
    uint64_t v = 0;
    for (int k = 0; k < most && p + k < limit; k++) {
        v |= (uint64_t)(p[k] & 0x7F) << (7 * k);
        if (!(p[k] & 0x80)) {
            *value = v;
            return k + 1;
        }
    }
    return 0;
}

/* envelope_fields(data, starts, ends) -> bytes: ENVELOPE_COLUMNS columns of int64, one after another, a row per
 * frame data[starts[i]:ends[i]]: what frames.plain_envelopes finds, in the same plain shape (a SealedEvent encoded
 * deterministically: field 1 the envelope, field 2 its 32-byte hash; an envelope's fields 1..9 in order, each at
 * most once). A row in any other shape has column 0 (ok) 0, and its other columns mean nothing. */
enum { OK, ENV_START, ENV_END, HASH_AT, FIELD_COLUMNS, ENVELOPE_COLUMNS = FIELD_COLUMNS + 7 * 2 + 1 };

static PyObject *envelope_fields(PyObject *self, PyObject *args) {
    static const int wire[9] = {2, 2, 0, 2, 2, 2, 0, 2, 2}; /* site stream seq event_id type actor recorded_at body
                                                               prev_hash: 2 a length and bytes, 0 a varint */
    Py_buffer data, starts, stops;
    if (!spans_args(args, &data, &starts, &stops))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    out = PyBytes_FromStringAndSize(NULL, rows * ENVELOPE_COLUMNS * (Py_ssize_t)sizeof(int64_t));
    if (!out)
        goto done;
    int64_t *c = (int64_t *)PyBytes_AS_STRING(out);
    const int64_t *a = starts.buf, *b = stops.buf;
    const unsigned char *bytes = data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < rows; i++) {
        int64_t s = a[i], e = b[i], env_start = s, env_end = s, ok = 0;
        uint64_t length, value;
        int taken;
        if (e - s >= 3 + 2 + 32 && bytes[s] == 0x0A
            && (taken = varint(bytes + s + 1, bytes + e, 4, &length))) {
            env_start = s + 1 + taken;
            env_end = env_start + (int64_t)length;
            ok = env_end + 2 + 32 == e && bytes[env_end] == 0x12 && bytes[env_end + 1] == 32;
        }
        int64_t pos = env_start, column = FIELD_COLUMNS;
        for (int number = 1; number <= 9; number++) {
            int present = ok && pos < env_end && bytes[pos] == (number << 3 | wire[number - 1]);
            int64_t start = pos, stop = pos;
            value = 0;
            if (present) {
                taken = varint(bytes + pos + 1, bytes + env_end, wire[number - 1] ? 4 : 8,
                               wire[number - 1] ? &length : &value);
                if (!taken)
                    ok = 0;
                else if (wire[number - 1]) {
                    start = pos + 1 + taken;
                    stop = start + (int64_t)length;
                    if (stop > env_end)
                        ok = 0;
                } else
                    start = stop = pos + 1 + taken;
                if (ok)
                    pos = stop;
            }
            if (number == 7) /* recorded_at_us: read past, not kept */
                continue;
            if (wire[number - 1]) {
                c[(column++) * rows + i] = start;
                c[(column++) * rows + i] = stop;
            } else {
                c[(column++) * rows + i] = ok ? (int64_t)value : 0;
            }
        }
        ok = ok && pos == env_end;
        c[OK * rows + i] = ok;
        c[ENV_START * rows + i] = env_start;
        c[ENV_END * rows + i] = ok ? env_end : env_start;
        c[HASH_AT * rows + i] = (ok ? env_end : env_start) + 2;
    }
    Py_END_ALLOW_THREADS
done:
    release_spans(&data, &starts, &stops);
    return out;
}

/* gather_spans(data, starts, ends) -> bytes: the spans' bytes one after another (a cut's bodies in one buffer). */
static PyObject *gather_spans(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops;
    if (!spans_args(args, &data, &starts, &stops))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t), size = 0;
    const int64_t *a = starts.buf, *b = stops.buf;
    for (Py_ssize_t i = 0; i < rows; i++)
        size += b[i] - a[i];
    out = PyBytes_FromStringAndSize(NULL, size);
    if (!out)
        goto done;
    char *to = PyBytes_AS_STRING(out);
    const char *from = data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < rows; i++) {
        memcpy(to, from + a[i], (size_t)(b[i] - a[i]));
        to += b[i] - a[i];
    }
    Py_END_ALLOW_THREADS
done:
    release_spans(&data, &starts, &stops);
    return out;
}

/* spans_are(data, starts, ends, value) -> bytes: per span 1 when its bytes are exactly value, else 0. */
static PyObject *spans_are(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops, value;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &data, &starts, &stops, &value))
        return NULL;
    PyObject *out = NULL;
    if (!spans_inside(&data, &starts, &stops))
        goto done;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    out = PyBytes_FromStringAndSize(NULL, rows);
    if (!out)
        goto done;
    char *same = PyBytes_AS_STRING(out);
    const int64_t *a = starts.buf, *b = stops.buf;
    const char *bytes = data.buf;
    for (Py_ssize_t i = 0; i < rows; i++)
        same[i] = b[i] - a[i] == value.len && memcmp(bytes + a[i], value.buf, (size_t)value.len) == 0;
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&stops);
    PyBuffer_Release(&value);
    return out;
}

/* not_ascii(data, starts, ends) -> bytes: per span 1 when it holds a byte of 0x80 or more (text to decode). */
static PyObject *not_ascii(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops;
    if (!spans_args(args, &data, &starts, &stops))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    out = PyBytes_FromStringAndSize(NULL, rows);
    if (!out)
        goto done;
    char *high = PyBytes_AS_STRING(out);
    const int64_t *a = starts.buf, *b = stops.buf;
    const unsigned char *bytes = data.buf;
    for (Py_ssize_t i = 0; i < rows; i++) {
        unsigned char any = 0;
        for (int64_t k = a[i]; k < b[i]; k++)
            any |= bytes[k];
        high[i] = (any & 0x80) != 0;
    }
done:
    release_spans(&data, &starts, &stops);
    return out;
}

/* chain_holds(data, digests, hash_at, prev_starts, prev_ends, head) -> bool: whether each event's stated hash (32
 * bytes at hash_at) is its computed digest and its prev_hash (32 bytes) the stated hash before it, the first's
 * being head: the links of a run of one stream. */
static PyObject *chain_holds(PyObject *self, PyObject *args) {
    Py_buffer data, digests, at, starts, stops, head;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*", &data, &digests, &at, &starts, &stops, &head))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    if (!spans_inside(&data, &starts, &stops))
        goto done;
    if (at.len != starts.len || digests.len != 32 * rows || head.len != 32) {
        PyErr_SetString(PyExc_ValueError, "a digest and a place of 32 bytes for every row, and a head of 32");
        goto done;
    }
    const int64_t *h = at.buf, *a = starts.buf, *b = stops.buf;
    const unsigned char *bytes = data.buf, *computed = digests.buf, *before = head.buf;
    int holds = 1;
    for (Py_ssize_t i = 0; i < rows && holds; i++) {
        holds = h[i] >= 0 && h[i] + 32 <= data.len && memcmp(bytes + h[i], computed + 32 * i, 32) == 0
                && b[i] - a[i] == 32 && memcmp(bytes + a[i], before, 32) == 0;
        before = computed + 32 * i;
    }
    out = PyBool_FromLong(holds);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&digests);
    PyBuffer_Release(&at);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&stops);
    PyBuffer_Release(&head);
    return out;
}

/* sealed_frames(hashes, raws) -> bytes | None: the frames of SealedEvent(envelope=raw, hash=h), each a 4-byte
 * big-endian length then the message as protobuf serialises it deterministically (field 1 the envelope, field 2
 * the hash); None when a hash is not 32 bytes or an envelope is empty (not the plain layout: protobuf writes it). */
static PyObject *sealed_frames(PyObject *self, PyObject *args) {
    PyObject *hashes, *raws;
    if (!PyArg_ParseTuple(args, "OO", &hashes, &raws))
        return NULL;
    PyObject *h = PySequence_Fast(hashes, "hashes must be a sequence"), *r = NULL, *out = NULL;
    if (!h || !(r = PySequence_Fast(raws, "raws must be a sequence")))
        goto done;
    Py_ssize_t rows = PySequence_Fast_GET_SIZE(r), size = 0;
    if (PySequence_Fast_GET_SIZE(h) != rows) {
        PyErr_SetString(PyExc_ValueError, "a hash for every envelope");
        goto done;
    }
    PyObject **hs = PySequence_Fast_ITEMS(h), **rs = PySequence_Fast_ITEMS(r);
    for (Py_ssize_t i = 0; i < rows; i++) {
        if (!PyBytes_Check(hs[i]) || !PyBytes_Check(rs[i]) || PyBytes_GET_SIZE(hs[i]) != 32
            || PyBytes_GET_SIZE(rs[i]) == 0 || PyBytes_GET_SIZE(rs[i]) > 0x7FFFFFFF - 48) {
            out = Py_None;
            Py_INCREF(out);
            goto done;
        }
        size_t n = (size_t)PyBytes_GET_SIZE(rs[i]), varint_bytes = 1;
        while (n >> (7 * varint_bytes))
            varint_bytes++;
        size += 4 + 1 + (Py_ssize_t)varint_bytes + (Py_ssize_t)n + 2 + 32;
    }
    out = PyBytes_FromStringAndSize(NULL, size);
    if (!out)
        goto done;
    unsigned char *to = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < rows; i++) {
        size_t n = (size_t)PyBytes_GET_SIZE(rs[i]), varint_bytes = 1;
        while (n >> (7 * varint_bytes))
            varint_bytes++;
        uint32_t length = (uint32_t)(1 + varint_bytes + n + 2 + 32);
        for (int shift = 24; shift >= 0; shift -= 8)
            *to++ = (unsigned char)(length >> shift);
        *to++ = 0x0A;
        for (size_t rest = n; rest >= 0x80; rest >>= 7)
            *to++ = (unsigned char)(rest & 0x7F) | 0x80;
        *to++ = (unsigned char)(n >> (7 * (varint_bytes - 1)));
        memcpy(to, PyBytes_AS_STRING(rs[i]), n);
        to += n;
        *to++ = 0x12;
        *to++ = 32;
        memcpy(to, PyBytes_AS_STRING(hs[i]), 32);
        to += 32;
    }
done:
    Py_XDECREF(h);
    Py_XDECREF(r);
    return out;
}

/* Memory for group_spans: anonymous pages, asked to be huge ones (its lookups land anywhere in it, and with small
 * pages nearly every one would also miss the TLB); only the pages touched are ever backed. */
static void *pages(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

/* The groups found so far: a table sized by the groups (not the rows, which repeat them many times over), and each
 * group's bytes copied into one arena beside its hash, length and number, so telling whether a span belongs to a
 * group reads one slot and one arena entry, a few megabytes apart, never anywhere else in the cut. */
struct groups {
    uint64_t *slots; /* 0: empty; else the group's hash's top 32 bits, then its arena entry's offset / 8, plus 1 */
    size_t mask;     /* slots - 1, slots a power of two */
    unsigned char *arena;
    size_t arena_used, arena_size, count;
};

struct entry { /* an arena entry, its span's bytes after it, padded to 8 */
    uint64_t hash;
    uint64_t length;
    int64_t group;
};

#define TAG(h) ((h) & 0xFFFFFFFF00000000ULL)
#define ENTRY(t, slot) ((struct entry *)((t)->arena + (((slot) & 0xFFFFFFFFULL) - 1) * 8))

static int groups_grow_table(struct groups *t) {
    size_t size = (t->mask + 1) * 2;
    uint64_t *slots = pages(size * sizeof(uint64_t));
    if (!slots)
        return 0;
    for (size_t at8 = 0; at8 < t->arena_used;) { /* every entry, in the arena's order */
        const struct entry *e = (const struct entry *)(t->arena + at8);
        size_t at = e->hash & (size - 1);
        while (slots[at])
            at = (at + 1) & (size - 1);
        slots[at] = TAG(e->hash) | (uint64_t)(at8 / 8 + 1);
        at8 += sizeof(struct entry) + ((e->length + 7) & ~(size_t)7);
    }
    munmap(t->slots, (t->mask + 1) * sizeof(uint64_t));
    t->slots = slots;
    t->mask = size - 1;
    return 1;
}

/* A new group: the span's n bytes at p, hash h, its slot `at`; 0 when out of memory. */
static int groups_add(struct groups *t, size_t at, uint64_t h, const unsigned char *p, size_t n) {
    struct entry *e = (struct entry *)(t->arena + t->arena_used);
    e->hash = h;
    e->length = n;
    e->group = (int64_t)t->count++;
    memcpy(e + 1, p, n);
    t->slots[at] = TAG(h) | (uint64_t)(t->arena_used / 8 + 1);
    t->arena_used += sizeof(struct entry) + ((n + 7) & ~(size_t)7);
    return (t->count * 2 > t->mask + 1) ? groups_grow_table(t) : 1; /* at most half full: probes stay short */
}

/* The slot where span i's group is or belongs, and its group's number (-1: a new group, the slot empty). */
static inline size_t groups_find(const struct groups *t, uint64_t h, const unsigned char *p, size_t n, int64_t *k) {
    size_t at = h & t->mask;
    while (1) {
        uint64_t slot = t->slots[at];
        if (!slot) {
            *k = -1;
            return at;
        }
        const struct entry *e = ENTRY(t, slot);
        if (TAG(slot) == TAG(h) && e->length == n && memcmp(e + 1, p, n) == 0) {
            *k = e->group;
            return at;
        }
        at = (at + 1) & t->mask;
    }
}

#define AHEAD 16 /* rows hashed ahead, their slots (then their entries) fetched while earlier rows are looked up */

/* group_spans(data, starts, ends) -> (group: bytes of int64 per span, first: bytes of int64 per group)
 * Spans with the same bytes get the same group, groups numbered in the order their first span comes; first[g] is
 * that span's row. Exact: spans are compared byte for byte, the hash only finds where to look. */
static PyObject *group_spans(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops;
    if (!spans_args(args, &data, &starts, &stops))
        return NULL;
    PyObject *group = NULL, *first = NULL, *result = NULL;
    struct groups t = {0};
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *a = starts.buf, *b = stops.buf;
    const unsigned char *bytes = data.buf;
    size_t most = 0; /* the arena's most: every span a group of its own */
    for (Py_ssize_t i = 0; i < rows; i++)
        most += sizeof(struct entry) + (((size_t)(b[i] - a[i]) + 7) & ~(size_t)7);
    if (most / 8 >= 0xFFFFFFFEULL) {
        PyErr_SetString(PyExc_ValueError, "too many bytes of spans to group at once (at most 32 GiB)");
        goto done;
    }
    t.mask = 1023;
    t.slots = pages((t.mask + 1) * sizeof(uint64_t));
    t.arena_size = most ? most : 8;
    t.arena = pages(t.arena_size);
    group = PyBytes_FromStringAndSize(NULL, rows * (Py_ssize_t)sizeof(int64_t));
    first = PyBytes_FromStringAndSize(NULL, rows * (Py_ssize_t)sizeof(int64_t));
    if (!t.slots || !t.arena || !group || !first) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *g = (int64_t *)PyBytes_AS_STRING(group), *f = (int64_t *)PyBytes_AS_STRING(first);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    uint64_t ahead[AHEAD];
    for (Py_ssize_t i = 0; i < rows && i < AHEAD; i++)
        ahead[i] = span_hash(bytes + a[i], (size_t)(b[i] - a[i]));
    for (Py_ssize_t i = 0; i < rows && ok; i++) {
        uint64_t h = ahead[i % AHEAD];
        Py_ssize_t next = i + AHEAD;
        if (next < rows) {
            uint64_t later = span_hash(bytes + a[next], (size_t)(b[next] - a[next]));
            ahead[next % AHEAD] = later;
            __builtin_prefetch(&t.slots[later & t.mask]);
        }
        Py_ssize_t half = i + AHEAD / 2; /* its slot fetched by now: fetch the entry it names */
        if (half < rows) {
            uint64_t slot = t.slots[ahead[half % AHEAD] & t.mask];
            if (slot)
                __builtin_prefetch(ENTRY(&t, slot));
        }
        size_t n = (size_t)(b[i] - a[i]);
        const unsigned char *p = bytes + a[i];
        int64_t k;
        size_t at = groups_find(&t, h, p, n, &k);
        if (k < 0) {
            f[t.count] = i;
            g[i] = (int64_t)t.count;
            ok = groups_add(&t, at, h, p, n);
        } else {
            g[i] = k;
        }
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_NoMemory();
        goto done;
    }
    if (_PyBytes_Resize(&first, (Py_ssize_t)t.count * (Py_ssize_t)sizeof(int64_t)) < 0)
        goto done;
    result = Py_BuildValue("(OO)", group, first);
done:
    Py_XDECREF(group);
    Py_XDECREF(first);
    if (t.slots)
        munmap(t.slots, (t.mask + 1) * sizeof(uint64_t));
    if (t.arena)
        munmap(t.arena, t.arena_size);
    release_spans(&data, &starts, &stops);
    return result;
}

/* read_after(tail, readinto, n, pad) -> bytes: tail, then up to n bytes read by calling readinto with writable
 * views of the result itself (looping until n or the end), then pad zero bytes: a block of frames in one bytes
 * object, without joining the carried tail to a freshly read chunk (a copy of every block otherwise). */
static PyObject *read_after(PyObject *self, PyObject *args) {
    Py_buffer tail;
    PyObject *readinto;
    Py_ssize_t n, pad;
    if (!PyArg_ParseTuple(args, "y*Onn", &tail, &readinto, &n, &pad))
        return NULL;
    if (n < 0 || pad < 0 || tail.len > PY_SSIZE_T_MAX - n - pad) {
        PyBuffer_Release(&tail);
        PyErr_SetString(PyExc_ValueError, "n and pad must be at least 0");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, tail.len + n + pad);
    if (!out) {
        PyBuffer_Release(&tail);
        return NULL;
    }
    char *to = PyBytes_AS_STRING(out);
    memcpy(to, tail.buf, (size_t)tail.len);
    Py_ssize_t got = 0, start = tail.len;
    PyBuffer_Release(&tail);
    while (got < n) {
        PyObject *view = PyMemoryView_FromMemory(to + start + got, n - got, PyBUF_WRITE);
        if (!view)
            goto failed;
        PyObject *r = PyObject_CallOneArg(readinto, view);
        PyObject *released = PyObject_CallMethod(view, "release", NULL);  // the reader must not keep the view
        Py_DECREF(view);
        if (!r || !released) {
            Py_XDECREF(r);
            Py_XDECREF(released);
            goto failed;
        }
        Py_DECREF(released);
        Py_ssize_t k = r == Py_None ? 0 : PyLong_AsSsize_t(r);
        Py_DECREF(r);
        if (k == -1 && PyErr_Occurred())
            goto failed;
        if (k < 0 || k > n - got) {
            PyErr_SetString(PyExc_ValueError, "readinto returned more than it was given room for");
            goto failed;
        }
        if (k == 0)
            break;  // the end (or, for a non-blocking reader, nothing now: the caller reads on)
        got += k;
    }
    memset(to + start + got, 0, (size_t)pad);
    if (got < n && _PyBytes_Resize(&out, start + got + pad) < 0)
        return NULL;
    return out;
failed:
    Py_DECREF(out);
    return NULL;
}

/* tsv_rows(header, columns) -> bytes: the header, then one line per row, the columns' fields joined by tabs and
 * each line ended by a newline, where a column is (data, starts, ends) and row i's field is data[starts[i]:ends[i]]
 * (int64 spans, each checked to lie inside its data). What tsv.rows lays out with numpy, a field at a time. */
static PyObject *tsv_rows(PyObject *self, PyObject *args) {
    Py_buffer header;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "y*O", &header, &columns))
        return NULL;
    PyObject *list = PySequence_Fast(columns, "columns must be a sequence"), *out = NULL;
    Py_ssize_t k = list ? PySequence_Fast_GET_SIZE(list) : 0, parsed = 0, rows = 0;
    Py_buffer *spans = list ? PyMem_Calloc((size_t)(3 * k + 1), sizeof(Py_buffer)) : NULL;
    if (!list || !spans) {
        if (list)
            PyErr_NoMemory();
        goto done;
    }
    for (; parsed < k; parsed++) {
        Py_buffer *c = spans + 3 * parsed;
        if (!spans_args(PySequence_Fast_GET_ITEM(list, parsed), c, c + 1, c + 2))
            goto done;
        Py_ssize_t n = c[1].len / (Py_ssize_t)sizeof(int64_t);
        if (parsed && n != rows) {
            release_spans(c, c + 1, c + 2);
            PyErr_SetString(PyExc_ValueError, "every column must have one field per row");
            goto done;
        }
        rows = n;
    }
    Py_ssize_t size = header.len + (k ? rows * k : 0);
    for (Py_ssize_t j = 0; j < k; j++) {
        const int64_t *a = spans[3 * j + 1].buf, *b = spans[3 * j + 2].buf;
        for (Py_ssize_t i = 0; i < rows; i++)
            size += (Py_ssize_t)(b[i] - a[i]);
    }
    if (!(out = PyBytes_FromStringAndSize(NULL, size)))
        goto done;
    char *to = PyBytes_AS_STRING(out);
    memcpy(to, header.buf, (size_t)header.len);
    to += header.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < rows; i++) {
        for (Py_ssize_t j = 0; j < k; j++) {
            const Py_buffer *c = spans + 3 * j;
            int64_t a = ((const int64_t *)c[1].buf)[i], n = ((const int64_t *)c[2].buf)[i] - a;
            memcpy(to, (const char *)c[0].buf + a, (size_t)n);
            to += n;
            *to++ = j + 1 < k ? '\t' : '\n';
        }
    }
    Py_END_ALLOW_THREADS
done:
    for (Py_ssize_t j = 0; j < parsed; j++)
        release_spans(spans + 3 * j, spans + 3 * j + 1, spans + 3 * j + 2);
    PyMem_Free(spans);
    Py_XDECREF(list);
    PyBuffer_Release(&header);
    return out;
}

/* string_fields(data, starts, ends, which, k) -> bytearray: where string fields 1..k lie in the bodies
 * data[starts[w]:ends[w]] for each w of which, as fields.py reads them: 2k int64 columns of len(which) (field 1's
 * starts, its ends, field 2's starts, ...; an absent field is an empty span where it would be), then a byte per
 * row, 1 when the body is exactly such fields in order, each with a length of one or two varint bytes (any other
 * body is 0, its spans meaningless: the caller decodes it the slow way). */
static PyObject *string_fields(PyObject *self, PyObject *args) {
    Py_buffer data, starts, ends, which;
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "y*y*y*y*n", &data, &starts, &ends, &which, &k))
        return NULL;
    PyObject *out = NULL;
    if (!spans_inside(&data, &starts, &ends))
        goto done;
    Py_ssize_t bodies = starts.len / (Py_ssize_t)sizeof(int64_t), rows = which.len / (Py_ssize_t)sizeof(int64_t);
    if (which.len % (Py_ssize_t)sizeof(int64_t) || k < 1 || k > 15) {
        PyErr_SetString(PyExc_ValueError, "which must be int64 positions, and k 1..15 fields");
        goto done;
    }
    const int64_t *w = which.buf, *a = starts.buf, *b = ends.buf;
    for (Py_ssize_t r = 0; r < rows; r++) {
        if (w[r] < 0 || w[r] >= bodies) {
            PyErr_Format(PyExc_ValueError, "row %zd names body %lld of %zd", r, (long long)w[r], bodies);
            goto done;
        }
    }
    if (rows > PY_SSIZE_T_MAX / (Py_ssize_t)(2 * k * sizeof(int64_t) + 1)
        || !(out = PyByteArray_FromStringAndSize(NULL, rows * (Py_ssize_t)(2 * k * sizeof(int64_t) + 1))))
        goto done;
    int64_t *columns = (int64_t *)PyByteArray_AS_STRING(out);  // writable: the caller fills in the slow rows
    unsigned char *plain = (unsigned char *)(columns + 2 * k * rows);
    const unsigned char *p = data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rows; r++) {
        int64_t pos = a[w[r]], end = b[w[r]];
        int ok = 1;
        for (Py_ssize_t f = 0; f < k; f++) {
            int64_t start = pos, stop = pos;
            if (ok && pos < end && p[pos] == (unsigned char)((f + 1) << 3 | 2)) {
                if (pos + 1 >= end) {
                    ok = 0;
                } else if (p[pos + 1] < 0x80) {
                    start = pos + 2;
                    stop = start + p[pos + 1];
                } else if (pos + 2 < end && p[pos + 2] < 0x80) {
                    start = pos + 3;
                    stop = start + ((p[pos + 1] & 0x7F) | (int64_t)p[pos + 2] << 7);
                } else {
                    ok = 0;
                }
                if (stop > end)
                    ok = 0;
            }
            if (!ok)
                start = stop = pos;
            columns[2 * f * rows + r] = start;
            columns[(2 * f + 1) * rows + r] = stop;
            pos = stop;
        }
        plain[r] = (unsigned char)(ok && pos == end);
    }
    Py_END_ALLOW_THREADS
done:
    release_spans(&data, &starts, &ends);
    PyBuffer_Release(&which);
    return out;
}

/* cascade(threshold, primary, member, indptr, targets) -> bytearray: one byte per voter, 1 for the members of the
 * least set holding every voter with primary >= threshold and every voter of member with at least threshold -
 * primary sources in the set (trust.py's _cascade, one joiner at a time from a queue: the set does not depend on
 * the order). primary int32 and member bool, of n; indptr int64 of n + 1 and targets int32: out-edges by source. */
static PyObject *cascade(PyObject *self, PyObject *args) {
    long long threshold;
    Py_buffer primary, member, indptr, targets;
    if (!PyArg_ParseTuple(args, "Ly*y*y*y*", &threshold, &primary, &member, &indptr, &targets))
        return NULL;
    PyObject *out = NULL;
    int32_t *counts = NULL, *queue = NULL;
    Py_ssize_t n = primary.len / (Py_ssize_t)sizeof(int32_t), edges = targets.len / (Py_ssize_t)sizeof(int32_t);
    const int64_t *ip = indptr.buf;
    const int32_t *p = primary.buf, *t = targets.buf;
    const unsigned char *m = member.buf;
    int bad = primary.len % (Py_ssize_t)sizeof(int32_t) || member.len != n || targets.len % (Py_ssize_t)sizeof(int32_t)
              || indptr.len != (n + 1) * (Py_ssize_t)sizeof(int64_t) || ip[0] != 0 || ip[n] != edges;
    for (Py_ssize_t v = 0; !bad && v < n; v++)
        bad = ip[v] > ip[v + 1];
    for (Py_ssize_t e = 0; !bad && e < edges; e++)
        bad = t[e] < 0 || t[e] >= n;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "cascade wants int32 primary, bool member (n), int64 indptr (n + 1, "
                                          "ascending from 0 to the edges) and int32 targets below n");
        goto done;
    }
    if (!(out = PyByteArray_FromStringAndSize(NULL, n)) || !(counts = PyMem_Calloc((size_t)n + 1, sizeof(int32_t)))
        || !(queue = PyMem_Malloc(((size_t)n + 1) * sizeof(int32_t)))) {
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    unsigned char *joined = (unsigned char *)PyByteArray_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t head = 0, tail = 0;
    for (Py_ssize_t v = 0; v < n; v++) {
        joined[v] = p[v] >= threshold;
        if (joined[v])
            queue[tail++] = (int32_t)v;
    }
    while (head < tail) {  // each joiner is queued once and pushes its out-edges once
        int32_t source = queue[head++];
        for (int64_t e = ip[source]; e < ip[source + 1]; e++) {
            int32_t target = t[e];
            if (!joined[target] && m[target] && ++counts[target] >= threshold - p[target]) {
                joined[target] = 1;
                queue[tail++] = target;
            }
        }
    }
    Py_END_ALLOW_THREADS
done:
    PyMem_Free(counts);
    PyMem_Free(queue);
    PyBuffer_Release(&primary);
    PyBuffer_Release(&member);
    PyBuffer_Release(&indptr);
    PyBuffer_Release(&targets);
    return out;
}

static PyMethodDef methods[] = {
    {"walk_frames", walk_frames, METH_VARARGS, "The whole frames' starts from pos, and where they end."},
    {"hash_spans", hash_spans, METH_VARARGS, "SHA-256 of a prefix and each span of a buffer."},
    {"envelope_fields", envelope_fields, METH_VARARGS, "Where the fields of many sealed envelopes lie."},
    {"gather_spans", gather_spans, METH_VARARGS, "The spans' bytes one after another."},
    {"spans_are", spans_are, METH_VARARGS, "Per span, whether its bytes are the value."},
    {"not_ascii", not_ascii, METH_VARARGS, "Per span, whether it holds a byte of 0x80 or more."},
    {"chain_holds", chain_holds, METH_VARARGS, "Whether a run's hashes are computed and linked."},
    {"sealed_frames", sealed_frames, METH_VARARGS, "The frames of sealed events, as protobuf writes them."},
    {"group_spans", group_spans, METH_VARARGS, "Spans grouped by their bytes, groups in order of first sight."},
    {"string_fields", string_fields, METH_VARARGS, "Where the string fields of many small bodies lie."},
    {"cascade", cascade, METH_VARARGS, "The least set a threshold cascade over out-edges reaches."},
    {"tsv_rows", tsv_rows, METH_VARARGS, "Tab-separated lines laid out from columns of spans."},
    {"read_after", read_after, METH_VARARGS, "A carried tail, then what a reader reads into the same bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "Per-event loops of reading a cut.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
