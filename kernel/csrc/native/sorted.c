/* Finding spans in a sorted table of spans by one merge of two sorted lists (a count's voters in the voter list). */

#include "native.h"

static inline int span_cmp(const unsigned char *a, size_t na, const unsigned char *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

/* rows_in_sorted(qdata, qstarts, qends, tdata, tstarts, tends) -> bytes: per query span its row in the table (native
 * int64), -1 when absent. Both lists are strictly ascending byte by byte (the queries as interning numbers them, the
 * table as a voter list is written); a list that is not is refused with a ValueError, since the merge relies on it. */
PyObject *rows_in_sorted(PyObject *self, PyObject *args) {
    Py_buffer qd, qs, qe, td, ts, te;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*", &qd, &qs, &qe, &td, &ts, &te))
        return NULL;
    PyObject *out = NULL;
    if (!spans_inside(&qd, &qs, &qe) || !spans_inside(&td, &ts, &te))
        goto done;
    Py_ssize_t nq = qs.len / (Py_ssize_t)sizeof(int64_t), nt = ts.len / (Py_ssize_t)sizeof(int64_t);
    out = PyBytes_FromStringAndSize(NULL, nq * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL)
        goto done;
    const unsigned char *q = qd.buf, *t = td.buf;
    const int64_t *qa = qs.buf, *qb = qe.buf, *ta = ts.buf, *tb = te.buf;
    int64_t *row = (int64_t *)PyBytes_AS_STRING(out);
    const char *unsorted = NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 1; i < nq && !unsorted; i++)
        if (span_cmp(q + qa[i - 1], qb[i - 1] - qa[i - 1], q + qa[i], qb[i] - qa[i]) >= 0)
            unsorted = "the spans sought";
    for (Py_ssize_t j = 1; j < nt && !unsorted; j++)
        if (span_cmp(t + ta[j - 1], tb[j - 1] - ta[j - 1], t + ta[j], tb[j] - ta[j]) >= 0)
            unsorted = "the table";
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < nq && !unsorted; i++) {
        int c = 1;
        while (j < nt && (c = span_cmp(t + ta[j], tb[j] - ta[j], q + qa[i], qb[i] - qa[i])) < 0)
            j++;
        row[i] = (j < nt && c == 0) ? j : -1;
    }
    Py_END_ALLOW_THREADS
    if (unsorted) {
        Py_CLEAR(out);
        PyErr_Format(PyExc_ValueError, "%s are not in strictly ascending order", unsorted);
    }
done:
    PyBuffer_Release(&qd);
    PyBuffer_Release(&qs);
    PyBuffer_Release(&qe);
    PyBuffer_Release(&td);
    PyBuffer_Release(&ts);
    PyBuffer_Release(&te);
    return out;
}
