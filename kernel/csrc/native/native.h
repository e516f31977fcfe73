/* The kernel's per-event loops in C, one extension (civitas_kernel._native) built from this folder's files: what
 * they share. Everything else about a cut is read over whole arrays with numpy (frames.py, bulk_verify.py); these
 * loops touch every event one at a time, so in Python they were most of a record's time. native.py is the Python
 * face of the extension and falls back to plain Python when it was not built, with the same answers. */

#ifndef CIVITAS_NATIVE_H
#define CIVITAS_NATIVE_H

#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: the one-shot low-level calls, no EVP per event */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Whether starts and stops are int64 buffers of one length whose every span lies in data (a ValueError if not). */
int spans_inside(const Py_buffer *data, const Py_buffer *starts, const Py_buffer *stops);
/* The buffers of a call over spans (data, starts, ends), parsed and checked, and released. */
int spans_args(PyObject *args, Py_buffer *data, Py_buffer *starts, Py_buffer *stops);
void release_spans(Py_buffer *data, Py_buffer *starts, Py_buffer *stops);

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

PyObject *walk_frames(PyObject *self, PyObject *args);
PyObject *read_after(PyObject *self, PyObject *args);
PyObject *envelope_fields(PyObject *self, PyObject *args);
PyObject *sealed_frames(PyObject *self, PyObject *args);
PyObject *gather_spans(PyObject *self, PyObject *args);
PyObject *join_emptying(PyObject *self, PyObject *args);
PyObject *spans_are(PyObject *self, PyObject *args);
PyObject *not_ascii(PyObject *self, PyObject *args);
PyObject *hash_spans(PyObject *self, PyObject *args);
PyObject *chain_holds(PyObject *self, PyObject *args);
PyObject *group_spans(PyObject *self, PyObject *args);
PyObject *string_fields(PyObject *self, PyObject *args);
PyObject *tsv_rows(PyObject *self, PyObject *args);
PyObject *tsv_columns(PyObject *self, PyObject *args);
PyObject *rows_in_sorted(PyObject *self, PyObject *args);
PyObject *cascade(PyObject *self, PyObject *args);

#endif
