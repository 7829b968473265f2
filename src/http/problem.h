/* RFC 9457 problem+json bodies, the one shape of every error queryd sends. */
#ifndef QUERYD_PROBLEM_H
#define QUERYD_PROBLEM_H

#include <jansson.h>

/**
 * A new problem object: type urn:queryd:problem:<slug>, the slug's title,
 * status, detail and request_id. The caller owns the reference.
 */
json_t *problem_new(unsigned status, const char *slug, const char *detail, const char *request_id);

#endif
