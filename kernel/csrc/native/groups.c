/* Grouping equal spans, groups in order of first sight (interning.py): a table sized by the groups, their bytes
 * in one arena on huge pages, lookups fetched ahead. */

#include "native.h"

#include <sys/mman.h>

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
PyObject *group_spans(PyObject *self, PyObject *args) {
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
