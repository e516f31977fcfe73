/* Walking frames: a block's frames found, a block read after its carried tail, the sealed envelopes' fields, and
 * the frames of sealed events laid out (frames.py, export_pages.py). */

#include "native.h"

/* walk_frames(data, pos, limit) -> (starts: bytes of native int64, end: int)
 * The starts of the whole frames from pos (each a 4-byte big-endian length, then that many bytes) that end at or
 * before limit, and where the last of them ends: what native.plain_walk_frames returns, as a buffer numpy reads. */
PyObject *walk_frames(PyObject *self, PyObject *args) {
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

/* read_after(tail, readinto, n, pad) -> bytes: tail, then up to n bytes read by calling readinto with writable
 * views of the result itself (looping until n or the end), then pad zero bytes: a block of frames in one bytes
 * object, without joining the carried tail to a freshly read chunk (a copy of every block otherwise). */
PyObject *read_after(PyObject *self, PyObject *args) {
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

/* envelope_fields(data, starts, ends) -> bytes: ENVELOPE_COLUMNS columns of int64, one after another, a row per
 * frame data[starts[i]:ends[i]]: what frames.plain_envelopes finds, in the same plain shape (a SealedEvent encoded
 * deterministically: field 1 the envelope, field 2 its 32-byte hash; an envelope's fields 1..9 in order, each at
 * most once). A row in any other shape has column 0 (ok) 0, and its other columns mean nothing. */
enum { OK, ENV_START, ENV_END, HASH_AT, FIELD_COLUMNS, ENVELOPE_COLUMNS = FIELD_COLUMNS + 7 * 2 + 1 };

PyObject *envelope_fields(PyObject *self, PyObject *args) {
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

/* sealed_frames(hashes, raws) -> bytes | None: the frames of SealedEvent(envelope=raw, hash=h), each a 4-byte
 * big-endian length then the message as protobuf serialises it deterministically (field 1 the envelope, field 2
 * the hash); None when a hash is not 32 bytes or an envelope is empty (not the plain layout: protobuf writes it). */
PyObject *sealed_frames(PyObject *self, PyObject *args) {
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
