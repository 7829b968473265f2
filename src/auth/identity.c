/* Claims by path: "org.id" names the member id of the member org. */
#include "auth/identity.h"

#include <string.h>

json_t *identity_claim(json_t *claims, const char *path)
{
        char name[256];

        while (claims != NULL) {
                size_t len = strcspn(path, ".");
                if (len >= sizeof(name))
                        return NULL;
                memcpy(name, path, len);
                name[len] = '\0';
                claims = json_is_object(claims) ? json_object_get(claims, name) : NULL;
                if (path[len] == '\0')
                        return claims;
                path += len + 1;
        }
        return NULL;
}
