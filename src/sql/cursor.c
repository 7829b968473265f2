/* Cursors are base64url (no padding) so they travel in a URL unescaped;
 * reading them goes through the same base64 decoder as request values. */
#include "sql/cursor.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json/json_text.h"
#include "sql/typed_value.h"

void cursor_encode(strbuf_t *out, const char *order, const char *values_json, size_t len)
{
        strbuf_t plain = { 0 };

        strbuf_append_char(&plain, '[');
        json_text_string(&plain, order, strlen(order)); /* column names may hold quotes */
        strbuf_append_char(&plain, ',');
        strbuf_append(&plain, values_json, len);
        strbuf_append_char(&plain, ']');
        if (plain.failed)
                out->failed = true;
        else
                json_text_base64url(out, (const unsigned char *)plain.data, plain.len);
        strbuf_done(&plain);
}

static int fail(char *reason, size_t size, const char *text)
{
        snprintf(reason, size, "%s", text);
        return -EINVAL;
}

static int take_values(json_t *array, const char *order, size_t count, scope_t *scope,
                       cursor_value_t *ret, char *reason, size_t size)
{
        json_t *made_for = json_array_get(array, 0);

        if (json_array_size(array) != count + 1 || !json_is_string(made_for))
                return fail(reason, size, "is not a cursor of this collection");
        if (strcmp(json_string_value(made_for), order) != 0)
                return fail(reason, size, "belongs to another order: keep the order of the "
                                          "page it came from");
        for (size_t i = 0; i < count; i++) {
                json_t *v = json_array_get(array, i + 1);
                if (json_is_null(v)) {
                        ret[i] = (cursor_value_t){ NULL, 0 };
                        continue;
                }
                if (!json_is_string(v))
                        return fail(reason, size, "is not a cursor of this collection");
                ret[i].len = json_string_length(v);
                ret[i].text = scope_strndup(scope, json_string_value(v), ret[i].len);
                if (ret[i].text == NULL)
                        return -ENOMEM;
        }
        return 0;
}

int cursor_decode(const char *text, const char *order, size_t count, scope_t *scope,
                  cursor_value_t *ret_values, char *reason, size_t reason_size)
{
        static const api_rule_t base64 = { .type = API_TYPE_BINARY }; /* either alphabet */
        MYSQL_BIND plain;

        int r = typed_value_parse(&base64, text, strlen(text), scope, &plain, reason, reason_size);
        if (r == -ENOMEM)
                return r;
        json_t *array = r < 0 ? NULL
                              : json_loadb(plain.buffer, *plain.length, JSON_ALLOW_NUL, NULL);
        if (!json_is_array(array)) {
                json_decref(array);
                return fail(reason, reason_size, "is not a cursor (copy it from a \"next\" link)");
        }
        r = take_values(array, order, count, scope, ret_values, reason, reason_size);
        json_decref(array);
        return r;
}
