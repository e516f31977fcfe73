/* A page of a stream's sealed events read straight from an SQLite log file into the frames a segment holds, in
 * C: exporting a cut of millions of events otherwise makes three Python objects a row (a tuple, its hash and its
 * envelope) only to join them again. Optional, like _native.c: without SQLite's headers the export reads through
 * Python's sqlite3 module, to the same bytes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char QUERY[] = "SELECT seq, hash, raw FROM events WHERE site = ?1 AND stream = ?2 AND seq >= ?3 "
                            "AND seq <= ?4 ORDER BY seq LIMIT ?5";

struct buffer {
    unsigned char *data;
    size_t used, size;
};

static int reserve(struct buffer *b, size_t more) {
    if (b->used + more <= b->size)
        return 0;
    size_t size = b->size ? b->size : 1 << 20;
    while (size < b->used + more)
        size *= 2;
    unsigned char *data = realloc(b->data, size);
    if (!data)
        return -1;
    b->data = data;
    b->size = size;
    return 0;
}

static unsigned char *put_varint(unsigned char *to, uint64_t n) {
    for (; n >= 0x80; n >>= 7)
        *to++ = (unsigned char)(n & 0x7F) | 0x80;
    *to++ = (unsigned char)n;
    return to;
}

static size_t varint_size(uint64_t n) {
    size_t bytes = 1;
    while (n >>= 7)
        bytes++;
    return bytes;
}

/* One frame: a 4-byte big-endian length, then SealedEvent(envelope=raw, hash=h) as protobuf serialises it
 * deterministically: field 1 then field 2, each left out when empty (proto3). */
static int put_frame(struct buffer *b, const void *raw, size_t raw_n, const void *hash, size_t hash_n) {
    size_t body = (raw_n ? 1 + varint_size(raw_n) + raw_n : 0) + (hash_n ? 1 + varint_size(hash_n) + hash_n : 0);
    if (body > 0xFFFFFFFFu || reserve(b, 4 + body))
        return -1;
    unsigned char *to = b->data + b->used;
    for (int shift = 24; shift >= 0; shift -= 8)
        *to++ = (unsigned char)(body >> shift);
    if (raw_n) {
        *to++ = 0x0A;
        to = put_varint(to, raw_n);
        memcpy(to, raw, raw_n);
        to += raw_n;
    }
    if (hash_n) {
        *to++ = 0x12;
        to = put_varint(to, hash_n);
        memcpy(to, hash, hash_n);
        to += hash_n;
    }
    b->used = (size_t)(to - b->data);
    return 0;
}

/* page(path, site, stream, first, last, rows) -> (frames, rows read, last seq read) | None: events first..last of
 * site/stream, at most `rows` of them, from the SQLite file at path opened read-only (its rows never change once
 * written, so any snapshot holding them reads the same); None when the file cannot be read this way (the caller
 * then reads through Python). Runs without the GIL. */
static PyObject *page(PyObject *self, PyObject *args) {
    const char *path, *site, *stream;
    long long first, last, most;
    if (!PyArg_ParseTuple(args, "sssLLL", &path, &site, &stream, &first, &last, &most))
        return NULL;
    struct buffer b = {NULL, 0, 0};
    long long rows = 0, last_seq = first - 1;
    int failed = 0, too_big = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    Py_BEGIN_ALLOW_THREADS
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
        || sqlite3_busy_timeout(db, 10000) != SQLITE_OK
        // pages mapped rather than copied in by a read call each: a cut reads the file's pages once, in order
        || sqlite3_exec(db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, QUERY, -1, &statement, NULL) != SQLITE_OK
        || sqlite3_bind_text(statement, 1, site, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_text(statement, 2, stream, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_int64(statement, 3, first) != SQLITE_OK
        || sqlite3_bind_int64(statement, 4, last) != SQLITE_OK
        || sqlite3_bind_int64(statement, 5, most) != SQLITE_OK)
        failed = 1;
    int step = SQLITE_DONE;
    while (!failed && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        const void *hash = sqlite3_column_blob(statement, 1);
        size_t hash_n = (size_t)sqlite3_column_bytes(statement, 1);
        const void *raw = sqlite3_column_blob(statement, 2);
        size_t raw_n = (size_t)sqlite3_column_bytes(statement, 2);
        if (sqlite3_column_type(statement, 1) != SQLITE_BLOB || sqlite3_column_type(statement, 2) != SQLITE_BLOB) {
            failed = 1;  // not the log's layout: Python reads it and says what is wrong
            break;
        }
        if (put_frame(&b, raw, raw_n, hash, hash_n)) {
            too_big = 1;
            break;
        }
        last_seq = sqlite3_column_int64(statement, 0);
        rows++;
    }
    if (!failed && !too_big && step != SQLITE_DONE)
        failed = 1;
    sqlite3_finalize(statement);
    sqlite3_close_v2(db);
    Py_END_ALLOW_THREADS
    if (too_big) {
        free(b.data);
        return PyErr_NoMemory();
    }
    if (failed) {
        free(b.data);
        Py_RETURN_NONE;
    }
    PyObject *frames = PyBytes_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.used);
    free(b.data);
    if (!frames)
        return NULL;
    return Py_BuildValue("NLL", frames, rows, last_seq);
}

static PyMethodDef methods[] = {
    {"page", page, METH_VARARGS, "A page of sealed events' frames, read from an SQLite log file."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sqlite_frames",
                                    "Sealed events' frames straight from an SQLite log.", -1, methods};

PyMODINIT_FUNC PyInit__sqlite_frames(void) { return PyModule_Create(&module); }
