/* The string fields of many small protobuf bodies found at once (fields.py). */

#include "native.h"

/* string_fields(data, starts, ends, which, k) -> bytearray: where string fields 1..k lie in the bodies
 * data[starts[w]:ends[w]] for each w of which, as fields.py reads them: 2k int64 columns of len(which) (field 1's
 * starts, its ends, field 2's starts, ...; an absent field is an empty span where it would be), then a byte per
 * row, 1 when the body is exactly such fields in order, each with a length of one or two varint bytes (any other
 * body is 0, its spans meaningless: the caller decodes it the slow way). */
PyObject *string_fields(PyObject *self, PyObject *args) {
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
