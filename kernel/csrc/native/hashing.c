/* Each sealed envelope's SHA-256 (OpenSSL's, the one hashlib uses), the rows shared by threads without the GIL,
 * and a run's chain of hashes checked. */

#include "native.h"

#include <openssl/sha.h>
#include <pthread.h>

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
PyObject *hash_spans(PyObject *self, PyObject *args) {
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

/* chain_holds(data, digests, hash_at, prev_starts, prev_ends, head) -> bool: whether each event's stated hash (32
 * bytes at hash_at) is its computed digest and its prev_hash (32 bytes) the stated hash before it, the first's
 * being head: the links of a run of one stream. */
PyObject *chain_holds(PyObject *self, PyObject *args) {
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
