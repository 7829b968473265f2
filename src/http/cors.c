/* Origins are compared exactly, byte for byte, as browsers send them. */
#include "http/cors.h"

#include <string.h>

const char *cors_allow_origin(const char *allowed, const char *origin)
{
        if (allowed == NULL || origin == NULL)
                return NULL;
        if (strcmp(allowed, "*") == 0)
                return "*";
        size_t len = strlen(origin);
        for (const char *p = allowed;;) {
                size_t n = strcspn(p, ",");
                if (n == len && memcmp(p, origin, len) == 0)
                        return origin;
                if (p[n] == '\0')
                        return NULL;
                p += n + 1;
        }
}
