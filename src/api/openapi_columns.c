/*
 * Schemas of values: a result column's (what the row writer writes, read
 * from the one type table, json_types.h) and a request parameter's.
 */
#include "api/openapi_parts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_types.h"

/* ------------------------------------------------------------------ result columns */

void oa_sql_type(const api_column_t *c, char *out, size_t size)
{
        const api_column_meta_t *m = &c->meta;
        json_kind_t kind = json_types_kind(m->type, m->charsetnr, m->is_json);
        const char *name = json_types_sql_name(m->type, m->flags, m->charsetnr, m->is_json);
        bool is_unsigned = (m->flags & UNSIGNED_FLAG) != 0;
        unsigned scale = m->decimals;

        switch (kind) {
        case JSON_KIND_INT:
                snprintf(out, size, "%s%s%s", name,
                         m->type == MYSQL_TYPE_TINY && m->length == 1 ? "(1)" : "",
                         is_unsigned ? " UNSIGNED" : "");
                return;
        case JSON_KIND_BIT:
                snprintf(out, size, "%s(%lu)", name, m->length);
                return;
        case JSON_KIND_FLOAT:
        case JSON_KIND_DOUBLE:
                snprintf(out, size, "%s%s", name, is_unsigned ? " UNSIGNED" : "");
                return;
        case JSON_KIND_DECIMAL: {
                /* The display length counts the digits, the point and the sign. */
                unsigned long digits = m->length - (scale > 0) - !is_unsigned;
                if (m->length > scale + 2 && digits > scale + 1)
                        snprintf(out, size, "%s(%lu,%u)", name, digits, scale);
                else
                        snprintf(out, size, "%s with %u fraction digits", name, scale);
                return;
        }
        case JSON_KIND_DATETIME:
        case JSON_KIND_TIMESTAMP:
        case JSON_KIND_TIME:
                if (scale > 0 && scale <= 6)
                        snprintf(out, size, "%s(%u)", name, scale);
                else
                        snprintf(out, size, "%s", name);
                return;
        case JSON_KIND_TEXT:
        case JSON_KIND_BINARY:
                /* The rule knows the characters a text column holds (bytes for binary). */
                if (c->rule.max_length > 0 &&
                    (m->type == MYSQL_TYPE_VAR_STRING || m->type == MYSQL_TYPE_VARCHAR ||
                     (m->type == MYSQL_TYPE_STRING && !(m->flags & (ENUM_FLAG | SET_FLAG)))))
                        snprintf(out, size, "%s(%zu)", name, c->rule.max_length);
                else
                        snprintf(out, size, "%s", name);
                return;
        default: /* DATE, JSON */
                snprintf(out, size, "%s", name);
                return;
        }
}

/* How a column's values look in JSON: its form in the type table, for its output. */
typedef struct json_shape {
        const char *type;     /* NULL: any JSON value */
        const char *alt_type; /* a second type, or NULL */
        const char *format;
        const char *encoding; /* contentEncoding */
        char pattern[128];
        const char *note; /* for the description, or NULL */
} json_shape_t;

static void shape_of(const api_column_t *c, json_kind_t kind, json_shape_t *s)
{
        const json_form_t *form = json_types_form(kind, c->output);
        bool big = form->big_note != NULL &&
                   json_types_may_pass_exact(kind, c->meta.type, c->meta.length);
        bool is_unsigned = json_types_always_unsigned(kind) || (c->meta.flags & UNSIGNED_FLAG);

        s->type = form->type;
        s->alt_type = big ? form->big_alt_type : NULL;
        s->format = form->format;
        s->encoding = form->encoding;
        s->note = big ? form->big_note : form->note;
        json_types_pattern(big ? form->big_pattern : form->pattern, is_unsigned, c->meta.decimals,
                           s->pattern, sizeof(s->pattern));
}

static json_t *column_schema(const api_column_t *c)
{
        json_kind_t kind = json_types_kind(c->meta.type, c->meta.charsetnr, c->meta.is_json);
        bool nullable = (c->meta.flags & NOT_NULL_FLAG) == 0;
        json_shape_t shape;
        char type[64];

        shape_of(c, kind, &shape);
        oa_sql_type(c, type, sizeof(type));
        json_t *s = oa_object_of("description",
                                 oa_strf("%s%s%s%s.", type, nullable ? ", nullable" : "",
                                         shape.note ? "; " : "", shape.note ? shape.note : ""),
                                 NULL);
        if (shape.type != NULL) /* a JSON column takes any value, null too */
                s = oa_with(s, "type", oa_type_of(shape.type, shape.alt_type, nullable));
        if (shape.format != NULL)
                s = oa_with(s, "format", oa_str(shape.format));
        if (shape.pattern[0] != '\0')
                s = oa_with(s, "pattern", oa_str(shape.pattern));
        if (shape.encoding != NULL)
                s = oa_with(s, "contentEncoding", oa_str(shape.encoding));
        return s;
}

/* A row of a resource: any of its columns (select= picks some), typed, and
 * with relations, embedded rows under the names select gives them. */
json_t *oa_resource_row_schema(json_t *description, const api_column_t *columns, size_t count,
                               bool embeds)
{
        json_t *properties = json_object();
        json_t *other = json_false();

        for (size_t i = 0; i < count; i++)
                properties = oa_with(properties, columns[i].name, column_schema(&columns[i]));
        if (embeds) /* to-one: an object or null; to-many: an array of objects */
                other = oa_object_of("description",
                                     oa_str("An embedded relation (`select=...,name(columns)`): "
                                            "a row, null, or an array of rows."),
                                     "type", oa_strings_of("object", "array", "null", NULL),
                                     "items", oa_object_of("type", oa_str("object"), NULL), NULL);
        return oa_object_of("type", oa_str("object"), "description", description,
                            "additionalProperties", other, "properties", properties, NULL);
}

/* An object with exactly these columns, all present. */
json_t *oa_row_schema(json_t *description, const api_column_t *columns, size_t count)
{
        json_t *required = json_array();
        json_t *properties = json_object();

        for (size_t i = 0; i < count; i++) {
                required = oa_push(required, oa_str(columns[i].name));
                properties = oa_with(properties, columns[i].name, column_schema(&columns[i]));
        }
        return oa_object_of("type", oa_str("object"), "description", description, "required",
                            required, "additionalProperties", json_false(), "properties",
                            properties, NULL);
}

/* A row of a grouped answer: any of the columns, and aggregates under any key. */
json_t *oa_group_schema(json_t *description, const api_column_t *columns, size_t count)
{
        json_t *properties = json_object();

        for (size_t i = 0; i < count; i++)
                properties = oa_with(properties, columns[i].name, column_schema(&columns[i]));
        return oa_object_of("type", oa_str("object"), "description", description, "properties",
                            properties, "additionalProperties",
                            oa_object_of("type",
                                         oa_strings_of("integer", "number", "string", "boolean",
                                                       "null", NULL),
                                         NULL),
                            NULL);
}

/* ------------------------------------------------------------------ request values */

/* Whole values as integers, as oa_number() gives them. */
static void format_number(double value, char *out, size_t size)
{
        const double max_exact = (double)JSON_TYPES_MAX_EXACT_INT;

        if (value >= -max_exact && value <= max_exact && value == (double)(long long)value)
                snprintf(out, size, "%lld", (long long)value);
        else
                snprintf(out, size, "%.17g", value);
}

/* What a request value of rule must be, as a phrase: "an integer from 1 to 500". */
void oa_rule_phrase(const api_rule_t *rule, char *out, size_t size)
{
        static const char *const phrases[] = {
                [API_TYPE_INT] = "an integer",
                [API_TYPE_NUMBER] = "a finite number",
                [API_TYPE_DECIMAL] = "a decimal: digits with an optional leading `-` and fraction",
                [API_TYPE_STRING] = "text",
                [API_TYPE_BOOLEAN] = "`true` or `false`",
                [API_TYPE_DATE] = "a date, `YYYY-MM-DD`",
                [API_TYPE_DATETIME] = "a date and time, `YYYY-MM-DD[T ]hh:mm:ss[.ffffff]`",
                [API_TYPE_TIME] = "a time, `[-]hh:mm:ss[.ffffff]`",
                [API_TYPE_ENUM] = "one of the listed values",
                [API_TYPE_BINARY] = "base64 (standard alphabet, padded)",
                [API_TYPE_JSON] = "any value",
        };
        char low[32] = "", high[32] = "";

        if (rule->has_min)
                format_number(rule->min, low, sizeof(low));
        else if (rule->type == API_TYPE_INT && rule->is_unsigned)
                snprintf(low, sizeof(low), "0");
        if (rule->has_max)
                format_number(rule->max, high, sizeof(high));
        const char *base = phrases[rule->type];
        if (low[0] != '\0' && high[0] != '\0')
                snprintf(out, size, "%s from %s to %s", base, low, high);
        else if (low[0] != '\0')
                snprintf(out, size, "%s of at least %s", base, low);
        else if (high[0] != '\0')
                snprintf(out, size, "%s of at most %s", base, high);
        else if (rule->type == API_TYPE_STRING && rule->max_length > 0)
                snprintf(out, size, "text of at most %zu characters", rule->max_length);
        else
                snprintf(out, size, "%s", base);
}

static json_t *enum_values(const api_rule_t *rule)
{
        json_t *values = json_array();

        for (size_t i = 0; i < rule->value_count; i++)
                values = oa_push(values, oa_str(rule->values[i]));
        return values;
}

/* The JSON schema of a request value of rule (a path or query parameter). */
json_t *oa_rule_schema(const api_rule_t *rule)
{
        switch (rule->type) {
        case API_TYPE_INT: {
                json_t *s = oa_object_of("type", oa_str("integer"), NULL);
                if (!rule->is_unsigned) /* unsigned values go past int64 */
                        s = oa_with(s, "format", oa_str("int64"));
                if (rule->has_min || rule->is_unsigned)
                        s = oa_with(s, "minimum", oa_number(rule->has_min ? rule->min : 0));
                if (rule->has_max)
                        s = oa_with(s, "maximum", oa_number(rule->max));
                return s;
        }
        case API_TYPE_NUMBER: {
                json_t *s = oa_object_of("type", oa_str("number"), NULL);
                if (rule->has_min)
                        s = oa_with(s, "minimum", oa_number(rule->min));
                if (rule->has_max)
                        s = oa_with(s, "maximum", oa_number(rule->max));
                return s;
        }
        case API_TYPE_DECIMAL:
                return oa_object_of("type", oa_str("string"), "pattern",
                                    oa_str("^-?[0-9]+(\\.[0-9]+)?$"), NULL);
        case API_TYPE_STRING:
                if (rule->max_length == 0)
                        return oa_object_of("type", oa_str("string"), NULL);
                return oa_object_of("type", oa_str("string"), "maxLength",
                                    json_integer((json_int_t)rule->max_length), NULL);
        case API_TYPE_BOOLEAN:
                return oa_object_of("type", oa_str("boolean"), NULL);
        case API_TYPE_DATE:
                return oa_object_of("type", oa_str("string"), "format", oa_str("date"), NULL);
        case API_TYPE_DATETIME:
                return oa_object_of(
                        "type", oa_str("string"), "pattern",
                        oa_str("^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                               "(\\.[0-9]{1,6})?$"),
                        NULL);
        case API_TYPE_TIME:
                return oa_object_of("type", oa_str("string"), "pattern",
                                    oa_str("^-?[0-9]+:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?$"), NULL);
        case API_TYPE_ENUM:
                return oa_object_of("type", oa_str("string"), "enum", enum_values(rule), NULL);
        case API_TYPE_BINARY:
                return oa_object_of("type", oa_str("string"), "contentEncoding", oa_str("base64"),
                                    NULL);
        default:
                return json_object();
        }
}

/* A default given as text, as the JSON value of its type. */
json_t *oa_default_value(const api_rule_t *rule, const char *text)
{
        char *end;

        errno = 0;
        switch (rule->type) {
        case API_TYPE_INT: {
                long long v = strtoll(text, &end, 10);
                if (errno == 0 && *end == '\0' && end != text)
                        return json_integer(v);
                return oa_str(text); /* beyond int64 (unsigned): keep the digits */
        }
        case API_TYPE_NUMBER:
                return oa_number(strtod(text, NULL));
        case API_TYPE_BOOLEAN:
                return json_boolean(strcmp(text, "true") == 0 || strcmp(text, "1") == 0);
        default:
                return oa_str(text);
        }
}

json_t *oa_parameter(const char *name, const char *in, bool required, json_t *description,
                     json_t *schema)
{
        return oa_object_of("name", oa_str(name), "in", oa_str(in), "required",
                            json_boolean(required), "description", description, "schema", schema,
                            NULL);
}
