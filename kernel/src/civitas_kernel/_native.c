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

/* group_spans(data, starts, ends) -> (group: bytes of int64 per span, first: bytes of int64 per group)
 * Spans with the same bytes get the same group, groups numbered in the order their first span comes; first[g] is
 * that span's row. Exact: spans are compared byte for byte, the hash only finds where to look. */
static PyObject *group_spans(PyObject *self, PyObject *args) {
    Py_buffer data, starts, stops;
    if (!PyArg_ParseTuple(args, "y*y*y*", &data, &starts, &stops))
        return NULL;
    PyObject *group = NULL, *first = NULL, *result = NULL;
    int64_t *slots = NULL;
    Py_ssize_t rows = starts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *a = starts.buf, *b = stops.buf;
    const unsigned char *bytes = data.buf;
    if (!spans_inside(&data, &starts, &stops))
        goto done;
    size_t size = 16;
    while (size < (size_t)rows * 2)
        size <<= 1;
    slots = PyMem_Malloc(size * sizeof(int64_t)); /* -1, or the row of a group's first span */
    group = PyBytes_FromStringAndSize(NULL, rows * (Py_ssize_t)sizeof(int64_t));
    first = PyBytes_FromStringAndSize(NULL, rows * (Py_ssize_t)sizeof(int64_t));
    if (!slots || !group || !first) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *g = (int64_t *)PyBytes_AS_STRING(group), *f = (int64_t *)PyBytes_AS_STRING(first);
    int64_t groups = 0;
    Py_BEGIN_ALLOW_THREADS
    memset(slots, 0xFF, size * sizeof(int64_t));
    int64_t *group_of_slot = g; /* a slot's group is its first row's: read back through g */
    for (Py_ssize_t i = 0; i < rows; i++) {
        size_t n = (size_t)(b[i] - a[i]);
        const unsigned char *p = bytes + a[i];
        size_t at = span_hash(p, n) & (size - 1);
        while (1) {
            int64_t row = slots[at];
            if (row < 0) {
                slots[at] = i;
                f[groups] = i;
                g[i] = groups++;
                break;
            }
            if ((size_t)(b[row] - a[row]) == n && memcmp(bytes + a[row], p, n) == 0) {
                g[i] = group_of_slot[row];
                break;
            }
            at = (at + 1) & (size - 1);
        }
    }
    Py_END_ALLOW_THREADS
    if (_PyBytes_Resize(&first, groups * (Py_ssize_t)sizeof(int64_t)) < 0)
        goto done;
    result = Py_BuildValue("(OO)", group, first);
done:
    Py_XDECREF(group);
    Py_XDECREF(first);
    PyMem_Free(slots);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&stops);
    return result;
}

static PyMethodDef methods[] = {
    {"walk_frames", walk_frames, METH_VARARGS, "The whole frames' starts from pos, and where they end."},
    {"hash_spans", hash_spans, METH_VARARGS, "SHA-256 of a prefix and each span of a buffer."},
    {"group_spans", group_spans, METH_VARARGS, "Spans grouped by their bytes, groups in order of first sight."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "Per-event loops of reading a cut.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
