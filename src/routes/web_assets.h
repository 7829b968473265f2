/*
 * The files of the page served at / (web/ in the source tree), compiled
 * into the binary from a C source the build generates (cmake/embed_web.cmake).
 */
#ifndef QUERYD_WEB_ASSETS_H
#define QUERYD_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
        const char *name;          /* "explorer.js": the file's name in web/ */
        const unsigned char *data; /* its bytes, followed by a NUL not counted in len */
        size_t len;
} web_asset_t;

extern const web_asset_t web_assets[];
extern const size_t web_asset_count;

#endif
