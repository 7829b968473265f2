/*
 * Strong tags from OpenSSL's SHA-256 of the bytes on the wire, and the
 * If-None-Match list parser.
 */
#include "http/etag.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

enum { TAG_BYTES = 16 };

int etag_make(const char *body, size_t len, const char *coding, char out[ETAG_SIZE])
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        static const char hex[] = "0123456789abcdef";
        char *p = out;

        if (EVP_Digest(body, len, digest, &digest_len, EVP_sha256(), NULL) != 1 ||
            digest_len < TAG_BYTES)
                return -EIO;
        *p++ = '"';
        for (int i = 0; i < TAG_BYTES; i++) {
                *p++ = hex[digest[i] >> 4];
                *p++ = hex[digest[i] & 0xf];
        }
        if (coding != NULL)
                snprintf(p, ETAG_SIZE - (size_t)(p - out), "-%.8s\"", coding);
        else
                snprintf(p, ETAG_SIZE - (size_t)(p - out), "\"");
        return 0;
}

static const char *skip_ows(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* The opaque part of a tag without its W/: from the opening quote to the closing one. */
static void opaque_of(const char *tag, const char **ret_start, size_t *ret_len)
{
        if (strncmp(tag, "W/", 2) == 0)
                tag += 2;
        *ret_start = tag;
        *ret_len = strlen(tag);
}

bool etag_none_match(const char *if_none_match, const char *etag)
{
        const char *own;
        size_t own_len;
        const char *p = skip_ows(if_none_match);

        opaque_of(etag, &own, &own_len);
        if (*p == '*')
                return *skip_ows(p + 1) == '\0';
        while (*p != '\0') {
                p = skip_ows(p);
                if (*p == ',') { /* empty list elements are allowed */
                        p++;
                        continue;
                }
                if (strncmp(p, "W/", 2) == 0)
                        p += 2;
                if (*p != '"')
                        return false;
                const char *close = strchr(p + 1, '"');
                if (close == NULL)
                        return false;
                if ((size_t)(close + 1 - p) == own_len && memcmp(p, own, own_len) == 0)
                        return true;
                p = skip_ows(close + 1);
                if (*p != ',' && *p != '\0')
                        return false;
        }
        return false;
}
