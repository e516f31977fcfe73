/* The trust network's threshold cascade, one joiner at a time from a queue (the registry's trust.py). */

#include "native.h"

/* cascade(threshold, primary, member, indptr, targets) -> bytearray: one byte per voter, 1 for the members of the
 * least set holding every voter with primary >= threshold and every voter of member with at least threshold -
 * primary sources in the set (trust.py's _cascade, one joiner at a time from a queue: the set does not depend on
 * the order). primary int32 and member bool, of n; indptr int64 of n + 1 and targets int32: out-edges by source. */
PyObject *cascade(PyObject *self, PyObject *args) {
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
