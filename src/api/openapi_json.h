/*
 * The building blocks of the OpenAPI generator: jansson constructors that
 * take (steal) the values they are given, NULL included, and return NULL
 * when out of memory, so that a failed allocation deep down makes the whole
 * document NULL without a check at each step. They carry the short prefix
 * oa_ since nearly every line of the generator calls them.
 */
#ifndef QUERYD_OPENAPI_JSON_H
#define QUERYD_OPENAPI_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "core/strbuf.h"

/** A string of text. */
json_t *oa_str(const char *text);

/** A string printf-formatted. */
json_t *oa_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** object with key: value added; NULL (both released) when either is NULL or the add fails. */
json_t *oa_with(json_t *object, const char *key, json_t *value);

/** array with value appended, with the same rules as oa_with(). */
json_t *oa_push(json_t *array, json_t *value);

/** {key: value, ...} from (const char *, json_t *) pairs ending with a NULL key. */
json_t *oa_object_of(const char *key, ...);

/** [s, ...] from strings ending with NULL. */
json_t *oa_strings_of(const char *first, ...);

/** {"$ref": "#/components/<section>/<name>"}. */
json_t *oa_ref(const char *section, const char *name);

/** "type", or [type, alt, "null"] when there is an alternative or null is possible. */
json_t *oa_type_of(const char *type, const char *alt, bool nullable);

/** value as a JSON number: whole values as integers, so 1 reads "1" and not "1.0". */
json_t *oa_number(double value);

/** {"const": value}. */
json_t *oa_const_of(json_t *value);

/** A string of the buffer's text; the buffer is released (NULL when it failed). */
json_t *oa_take_string(strbuf_t *b);

/** Appends text so that it matches itself in an ECMA-262 (unicode mode) regular expression. */
void oa_append_regex_literal(strbuf_t *b, const char *text);

/** Sets key: value in object (value taken); 0, or -ENOMEM (value NULL counts as that). */
int oa_put(json_t *object, const char *key, json_t *value);

#endif
