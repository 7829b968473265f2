/*
 * Entity tags (RFC 9110 section 8.8.3) for whole answers, and the
 * If-None-Match test (section 13.1.2) against them.
 */
#ifndef QUERYD_ETAG_H
#define QUERYD_ETAG_H

#include <stdbool.h>
#include <stddef.h>

/** Room for a tag: quotes, 32 hex digits, "-" and a coding's name, NUL. */
enum { ETAG_SIZE = 48 };

/**
 * Writes the strong tag of the exact bytes sent (len bytes at body) into
 * out: the first 128 bits of their SHA-256 in hex, quoted, with "-coding"
 * appended when a content coding (coding not NULL, e.g. "gzip") made them,
 * so that two codings of one answer never share a strong tag. Returns 0 or
 * -EIO when the digest fails.
 */
int etag_make(const char *body, size_t len, const char *coding, char out[ETAG_SIZE]);

/**
 * Whether an If-None-Match value ("*", or a list of tags, weak W/ ones
 * included) matches etag by the weak comparison that GET and HEAD use: the
 * opaque parts are equal, W/ prefixes aside. A malformed list matches
 * nothing after the point where it goes wrong.
 */
bool etag_none_match(const char *if_none_match, const char *etag);

#endif
