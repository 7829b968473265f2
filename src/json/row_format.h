/*
 * The formats a list of rows can be answered in, and the choice among them
 * from a request's Accept header (RFC 9110 section 12.5.1).
 */
#ifndef QUERYD_ROW_FORMAT_H
#define QUERYD_ROW_FORMAT_H

typedef enum row_format {
        ROW_FORMAT_JSON,   /* application/json: rows inside the JSON envelope */
        ROW_FORMAT_NDJSON, /* application/x-ndjson: one JSON object per line */
        ROW_FORMAT_CSV,    /* text/csv: RFC 4180, a header row, CRLF line ends */
} row_format_t;

/**
 * The format the Accept header prefers: the highest quality value among the
 * formats queryd writes, the most specific media range deciding each
 * format's quality, and ties going to JSON, then NDJSON, then CSV. No header
 * (NULL) or an empty one means JSON. Returns 0, -1 when the header
 * accepts none of them, or -EINVAL when a range's weight is not a qvalue of
 * RFC 9110 section 12.4.2 ("q=abc", "q=2", "q=0.1234"): such a header does
 * not say what it prefers, so it is refused rather than read some way.
 */
int row_format_negotiate(const char *accept, row_format_t *ret_format);

/**
 * The quality, in thousandths, the Accept header gives the media type
 * type/subtype ("text", "html"): that of the most specific range matching
 * it, 0 when none does or a range's weight is malformed, 1000 when there is
 * no header (NULL) or it is empty.
 */
int row_format_quality(const char *accept, const char *type, const char *subtype);

/** The Content-Type sent with a format. */
const char *row_format_content_type(row_format_t format);

#endif
