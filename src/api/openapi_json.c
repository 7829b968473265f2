/* jansson constructors for the OpenAPI generator; see openapi_json.h for their rules. */
#include "api/openapi_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_types.h"

json_t *oa_str(const char *text)
{
        return json_string(text);
}

json_t *oa_strf(const char *fmt, ...)
{
        va_list ap;
        char *text = NULL;
        json_t *s = NULL;

        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n >= 0)
                text = malloc((size_t)n + 1);
        if (text != NULL) {
                va_start(ap, fmt);
                vsnprintf(text, (size_t)n + 1, fmt, ap);
                va_end(ap);
                s = json_stringn(text, (size_t)n);
        }
        free(text);
        return s;
}

json_t *oa_with(json_t *object, const char *key, json_t *value)
{
        if (object == NULL || value == NULL) {
                json_decref(object);
                json_decref(value);
                return NULL;
        }
        if (json_object_set_new(object, key, value) < 0) { /* it released value */
                json_decref(object);
                return NULL;
        }
        return object;
}

json_t *oa_push(json_t *array, json_t *value)
{
        if (array == NULL || value == NULL) {
                json_decref(array);
                json_decref(value);
                return NULL;
        }
        if (json_array_append_new(array, value) < 0) {
                json_decref(array);
                return NULL;
        }
        return array;
}

json_t *oa_object_of(const char *key, ...)
{
        json_t *object = json_object();
        va_list ap;

        va_start(ap, key);
        /* After a failure, oa_with() goes on releasing the remaining values. */
        for (; key != NULL; key = va_arg(ap, const char *))
                object = oa_with(object, key, va_arg(ap, json_t *));
        va_end(ap);
        return object;
}

json_t *oa_strings_of(const char *first, ...)
{
        json_t *array = json_array();
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
                array = oa_push(array, oa_str(s));
        va_end(ap);
        return array;
}

json_t *oa_ref(const char *section, const char *name)
{
        return oa_object_of("$ref", oa_strf("#/components/%s/%s", section, name), NULL);
}

json_t *oa_type_of(const char *type, const char *alt, bool nullable)
{
        if (alt == NULL && !nullable)
                return oa_str(type);
        json_t *types = oa_push(json_array(), oa_str(type));
        if (alt != NULL)
                types = oa_push(types, oa_str(alt));
        if (nullable)
                types = oa_push(types, oa_str("null"));
        return types;
}

json_t *oa_number(double value)
{
        const double max_exact = (double)JSON_TYPES_MAX_EXACT_INT;
        bool exact = value >= -max_exact && value <= max_exact;

        if (exact && value == (double)(json_int_t)value)
                return json_integer((json_int_t)value);
        return json_real(value);
}

json_t *oa_const_of(json_t *value)
{
        return oa_object_of("const", value, NULL);
}

json_t *oa_take_string(strbuf_t *b)
{
        json_t *s = b->failed || b->data == NULL ? NULL : json_stringn(b->data, b->len);

        strbuf_done(b);
        return s;
}

void oa_append_regex_literal(strbuf_t *b, const char *text)
{
        for (const char *p = text; *p != '\0'; p++) {
                if (strchr("^$\\.*+?()[]{}|", *p) != NULL)
                        strbuf_append_char(b, '\\');
                strbuf_append_char(b, *p);
        }
}

int oa_put(json_t *object, const char *key, json_t *value)
{
        if (value == NULL)
                return -ENOMEM;
        return json_object_set_new(object, key, value) == 0 ? 0 : -ENOMEM;
}
