/*
 * Who sent a request, once its credentials were checked: the role whose
 * rules apply, the subject (for rate limits and the access log) and the
 * claims (for row conditions and parameters "from" the claims).
 */
#ifndef QUERYD_IDENTITY_H
#define QUERYD_IDENTITY_H

#include <jansson.h>

#include "api/api.h"

typedef struct identity {
        const char *role;           /* NULL: no credentials and no "anonymous_role" */
        const char *subject;        /* a token's "sub", "key:<hash prefix>" for an API key;
                                       NULL for the anonymous caller. Never a credential. */
        json_t *claims;             /* an object (empty for the anonymous caller); the
                                       request's scope holds a reference */
        const api_role_t *settings; /* what "auth"."roles" says of role, or NULL */
        bool anonymous;             /* no credentials were sent */
} identity_t;

/**
 * The value at a dotted path ("org.id") in claims, or NULL. A member whose
 * own name holds a dot is not reachable: paths name nested objects.
 */
json_t *identity_claim(json_t *claims, const char *path);

#endif
