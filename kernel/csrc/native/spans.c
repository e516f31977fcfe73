/* Calls over spans of one buffer: their arguments checked, and the spans gathered, compared or checked for ASCII;
 * and parts joined without holding them twice. */

#include "native.h"

/* Whether starts and stops are int64 buffers of one length whose every span lies in data; if not, a ValueError
 * is set saying which. What both calls over spans check before they read a byte. */
int spans_inside(const Py_buffer *data, const Py_buffer *starts, const Py_buffer *stops) {
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
void release_spans(Py_buffer *data, Py_buffer *starts, Py_buffer *stops) {
    PyBuffer_Release(data);
    PyBuffer_Release(starts);
    PyBuffer_Release(stops);
}

int spans_args(PyObject *args, Py_buffer *data, Py_buffer *starts, Py_buffer *stops) {
    if (!PyArg_ParseTuple(args, "y*y*y*", data, starts, stops))
        return 0;
    if (spans_inside(data, starts, stops))
        return 1;
    release_spans(data, starts, stops);
    return 0;
}

/* gather_spans(data, starts, ends) -> bytes: the spans' bytes one after another (a cut's bodies in one buffer). */
PyObject *gather_spans(PyObject *self, PyObject *args) {
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
PyObject *spans_are(PyObject *self, PyObject *args) {
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
PyObject *not_ascii(PyObject *self, PyObject *args) {
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

/* join_emptying(parts, pad) -> bytes: the parts (a list of bytes) one after another, then pad zero bytes; each
 * part's place in the list is emptied (None) once copied, so a part held only there is freed at once and the
 * whole never lives twice over (a cut's bodies: hundreds of megabytes). */
PyObject *join_emptying(PyObject *self, PyObject *args) {
    PyObject *parts;
    Py_ssize_t pad;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &parts, &pad))
        return NULL;
    if (pad < 0)
        return PyErr_Format(PyExc_ValueError, "pad %zd is negative", pad);
    Py_ssize_t n = PyList_GET_SIZE(parts), size = pad;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        if (!PyBytes_Check(part))
            return PyErr_Format(PyExc_TypeError, "part %zd is not bytes", i);
        size += PyBytes_GET_SIZE(part);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL)
        return NULL;
    char *at = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        memcpy(at, PyBytes_AS_STRING(part), (size_t)PyBytes_GET_SIZE(part));
        at += PyBytes_GET_SIZE(part);
        Py_INCREF(Py_None);
        PyList_SET_ITEM(parts, i, Py_None);
        Py_DECREF(part);
    }
    memset(at, 0, (size_t)pad);
    return out;
}
