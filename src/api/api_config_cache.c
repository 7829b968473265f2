/* An entry's caching settings: how long identical reads share one answer
 * (request/read_cache.c), and what Cache-Control tells HTTP caches. */
#include "api/api_config_parse.h"

#include <stdlib.h>
#include <string.h>

/* A header value must never carry a control character: a CR or LF would
 * start a header of its own. */
static bool is_header_text(const char *text, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)text[i];
                if (ch < 0x20 || ch >= 0x7f)
                        return false;
        }
        return len > 0 && text[0] != ' ' && text[len - 1] != ' ';
}

int cfg_parse_caching(const cfg_ctx_t *c, json_t *entry, unsigned *ret_ms, char **ret_control)
{
        json_t *v = json_object_get(entry, "cache_control");
        int r = cfg_get_unsigned(c, entry, "cache_ms", 0, CFG_CACHE_MAX_MS, 0, ret_ms);

        *ret_control = NULL;
        if (r < 0 || v == NULL)
                return r;
        if (!json_is_string(v) || json_string_length(v) > CFG_CACHE_CONTROL_MAX ||
            !is_header_text(json_string_value(v), json_string_length(v)))
                return cfg_fail(c, "\"cache_control\" must be 1 to %d visible ASCII characters "
                                   "(spaces between them), such as \"public, max-age=60\"",
                                CFG_CACHE_CONTROL_MAX);
        *ret_control = strdup(json_string_value(v));
        return *ret_control ? 0 : cfg_nomem(c);
}
