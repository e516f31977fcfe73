/* The extension's face: its calls, each defined in the file of its kind (frames.c, spans.c, hashing.c, groups.c,
 * fields.c, tsv.c, sorted.c, cascade.c). */

#include "native.h"

static PyMethodDef methods[] = {
    {"walk_frames", walk_frames, METH_VARARGS, "The whole frames' starts from pos, and where they end."},
    {"hash_spans", hash_spans, METH_VARARGS, "SHA-256 of a prefix and each span of a buffer."},
    {"envelope_fields", envelope_fields, METH_VARARGS, "Where the fields of many sealed envelopes lie."},
    {"gather_spans", gather_spans, METH_VARARGS, "The spans' bytes one after another."},
    {"join_emptying", join_emptying, METH_VARARGS, "Parts joined, then zeros, each emptied from its list once copied."},
    {"spans_are", spans_are, METH_VARARGS, "Per span, whether its bytes are the value."},
    {"not_ascii", not_ascii, METH_VARARGS, "Per span, whether it holds a byte of 0x80 or more."},
    {"chain_holds", chain_holds, METH_VARARGS, "Whether a run's hashes are computed and linked."},
    {"sealed_frames", sealed_frames, METH_VARARGS, "The frames of sealed events, as protobuf writes them."},
    {"group_spans", group_spans, METH_VARARGS, "Spans grouped by their bytes, groups in order of first sight."},
    {"string_fields", string_fields, METH_VARARGS, "Where the string fields of many small bodies lie."},
    {"cascade", cascade, METH_VARARGS, "The least set a threshold cascade over out-edges reaches."},
    {"tsv_rows", tsv_rows, METH_VARARGS, "Tab-separated lines laid out from columns of spans."},
    {"tsv_columns", tsv_columns, METH_VARARGS, "Where some columns of a tab-separated text lie, row by row."},
    {"rows_in_sorted", rows_in_sorted, METH_VARARGS, "Each sorted span's row in a sorted table, by one merge."},
    {"read_after", read_after, METH_VARARGS, "A carried tail, then what a reader reads into the same bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "Per-event loops of reading a cut.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
