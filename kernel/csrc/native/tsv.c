/* Tab-separated lines laid out from columns of spans (tsv.py). */

#include "native.h"

/* tsv_rows(header, columns) -> bytes: the header, then one line per row, the columns' fields joined by tabs and
 * each line ended by a newline, where a column is (data, starts, ends) and row i's field is data[starts[i]:ends[i]]
 * (int64 spans, each checked to lie inside its data). What tsv.rows lays out with numpy, a field at a time. */
PyObject *tsv_rows(PyObject *self, PyObject *args) {
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

/* tsv_columns(data, start, width, wanted) -> bytes | None: where columns `wanted` (a bytes of column numbers) of the
 * lines of data[start:] lie: for each wanted column its starts then its ends, native int64 per line. None when a
 * line does not hold exactly `width` fields (width - 1 tabs, then a newline) or the text does not end a line. */
PyObject *tsv_columns(PyObject *self, PyObject *args) {
    Py_buffer data, wanted;
    Py_ssize_t start, width;
    if (!PyArg_ParseTuple(args, "y*nny*", &data, &start, &width, &wanted))
        return NULL;
    PyObject *out = NULL;
    const unsigned char *u = data.buf, *want = wanted.buf;
    Py_ssize_t k = wanted.len, rows = 0;
    if (start < 0 || start > data.len || width < 1 || width > 255) {
        PyErr_SetString(PyExc_ValueError, "start or width out of range");
        goto done;
    }
    for (Py_ssize_t c = 0; c < k; c++)
        if (want[c] >= width) {
            PyErr_SetString(PyExc_ValueError, "a wanted column past the width");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = start; i < data.len; i++)
        rows += u[i] == '\n';
    Py_END_ALLOW_THREADS
    out = PyBytes_FromStringAndSize(NULL, 2 * k * rows * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL)
        goto done;
    int64_t *cols = (int64_t *)PyBytes_AS_STRING(out);
    signed char slot[256]; /* per column number, its place among the wanted, or -1 */
    memset(slot, -1, sizeof slot);
    for (Py_ssize_t c = 0; c < k; c++)
        slot[want[c]] = (signed char)c;
    int whole = 1;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = start;
    for (Py_ssize_t r = 0; r < rows && whole; r++) {
        for (Py_ssize_t f = 0; f < width; f++) {
            Py_ssize_t at = i;
            while (i < data.len && u[i] != '\t' && u[i] != '\n')
                i++;
            if (i >= data.len || u[i] != (f == width - 1 ? '\n' : '\t')) {
                whole = 0;
                break;
            }
            if (slot[f] >= 0) {
                cols[(2 * slot[f]) * rows + r] = at;
                cols[(2 * slot[f] + 1) * rows + r] = i;
            }
            i++;
        }
    }
    whole = whole && i == data.len;
    Py_END_ALLOW_THREADS
    if (!whole) {
        Py_DECREF(out);
        out = Py_None;
        Py_INCREF(out);
    }
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&wanted);
    return out;
}
