/*
 * Accept-Encoding (RFC 9110 section 12.5.3): which of the content codings the
 * server offers a client prefers, from the header's codings and q-values.
 */
#ifndef QUERYD_ACCEPT_ENCODING_H
#define QUERYD_ACCEPT_ENCODING_H

/** accept_encoding_choose's answer when the body is to be sent as it is. */
enum { ACCEPT_ENCODING_IDENTITY = -1 };

/**
 * Chooses among offered (count names like "zstd", "gzip", in the server's
 * order of preference) for a request whose Accept-Encoding value is header
 * (NULL: no such header). Returns the index in offered of the coding to use,
 * or ACCEPT_ENCODING_IDENTITY.
 *
 * The highest q-value wins; at equal q-values a coding wins over identity
 * and the server's order decides between codings. Codings match without
 * regard to case, "x-gzip" counts as "gzip", and "*" stands for every coding
 * not named. Identity stays acceptable unless "identity;q=0" (or "*;q=0"
 * without identity) refuses it; when it is refused and no offered coding
 * is acceptable either, the answer is still identity, as the RFC advises
 * (never 406). An element whose q-value is malformed (q=abc, q=1.5,
 * q=0.1234) is ignored as if absent, and so is anything that is not a token.
 * No header, or an empty one: identity.
 */
int accept_encoding_choose(const char *header, const char *const *offered, unsigned count);

#endif
