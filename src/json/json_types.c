/*
 * The type mapping as two tables: SQL types -> kinds and names, and kinds ->
 * how they are written and what their schema says under each output.
 */
#include "json/json_types.h"

#include <stdio.h>

/* A SQL type as the protocol sends it, found by its number (types fit a byte). */
typedef struct type_row {
        json_kind_t kind;        /* JSON_KIND_TEXT: text, binary or JSON by charset and format */
        const char *name;        /* NULL: not a type listed here */
        const char *binary_name; /* with the binary charset, when the name changes */
} type_row_t;

static const type_row_t TYPES[256] = {
        [MYSQL_TYPE_TINY] = { JSON_KIND_INT, "TINYINT", NULL },
        [MYSQL_TYPE_SHORT] = { JSON_KIND_INT, "SMALLINT", NULL },
        [MYSQL_TYPE_INT24] = { JSON_KIND_INT, "MEDIUMINT", NULL },
        [MYSQL_TYPE_LONG] = { JSON_KIND_INT, "INT", NULL },
        [MYSQL_TYPE_LONGLONG] = { JSON_KIND_INT, "BIGINT", NULL },
        [MYSQL_TYPE_YEAR] = { JSON_KIND_INT, "YEAR", NULL },
        [MYSQL_TYPE_BIT] = { JSON_KIND_BIT, "BIT", NULL },
        [MYSQL_TYPE_FLOAT] = { JSON_KIND_FLOAT, "FLOAT", NULL },
        [MYSQL_TYPE_DOUBLE] = { JSON_KIND_DOUBLE, "DOUBLE", NULL },
        [MYSQL_TYPE_DECIMAL] = { JSON_KIND_DECIMAL, "DECIMAL", NULL },
        [MYSQL_TYPE_NEWDECIMAL] = { JSON_KIND_DECIMAL, "DECIMAL", NULL },
        [MYSQL_TYPE_DATE] = { JSON_KIND_DATE, "DATE", NULL },
        [MYSQL_TYPE_NEWDATE] = { JSON_KIND_DATE, "DATE", NULL },
        [MYSQL_TYPE_DATETIME] = { JSON_KIND_DATETIME, "DATETIME", NULL },
        [MYSQL_TYPE_DATETIME2] = { JSON_KIND_DATETIME, "DATETIME", NULL },
        [MYSQL_TYPE_TIMESTAMP] = { JSON_KIND_TIMESTAMP, "TIMESTAMP", NULL },
        [MYSQL_TYPE_TIMESTAMP2] = { JSON_KIND_TIMESTAMP, "TIMESTAMP", NULL },
        [MYSQL_TYPE_TIME] = { JSON_KIND_TIME, "TIME", NULL },
        [MYSQL_TYPE_TIME2] = { JSON_KIND_TIME, "TIME", NULL },
        [MYSQL_TYPE_GEOMETRY] = { JSON_KIND_BINARY, "GEOMETRY", NULL },
        [MYSQL_TYPE_VARCHAR] = { JSON_KIND_TEXT, "VARCHAR", "VARBINARY" },
        [MYSQL_TYPE_VAR_STRING] = { JSON_KIND_TEXT, "VARCHAR", "VARBINARY" },
        [MYSQL_TYPE_STRING] = { JSON_KIND_TEXT, "CHAR", "BINARY" }, /* also ENUM and SET */
        [MYSQL_TYPE_TINY_BLOB] = { JSON_KIND_TEXT, "TEXT", "BLOB" },
        [MYSQL_TYPE_BLOB] = { JSON_KIND_TEXT, "TEXT", "BLOB" },
        [MYSQL_TYPE_MEDIUM_BLOB] = { JSON_KIND_TEXT, "TEXT", "BLOB" },
        [MYSQL_TYPE_LONG_BLOB] = { JSON_KIND_TEXT, "TEXT", "BLOB" },
        [MYSQL_TYPE_NULL] = { JSON_KIND_TEXT, "NULL", NULL },
        [MYSQL_TYPE_JSON] = { JSON_KIND_JSON, "JSON", NULL },
};

/* Any type not listed. */
static const type_row_t OTHER_TYPE = { JSON_KIND_TEXT, "text", "binary" };

/* A kind: how it is written and what its schema says under each output. */
typedef struct kind_row {
        bool always_unsigned;
        bool csv_as_is;
        json_form_t forms[JSON_TYPES_OUTPUTS];
} kind_row_t;

#define EVERY_OUTPUT(...)                                                                       \
        {                                                                                       \
                [API_OUTPUT_DEFAULT] = __VA_ARGS__, [API_OUTPUT_BOOLEAN] = __VA_ARGS__,         \
                [API_OUTPUT_NUMBER] = __VA_ARGS__, [API_OUTPUT_STRING] = __VA_ARGS__,           \
        }

#define INTEGER_FORMS                                                                           \
        {                                                                                       \
                [API_OUTPUT_DEFAULT] = { .write = JSON_WRITE_EXACT, .type = "integer",          \
                                         .big_alt_type = "string",                              \
                                         .big_pattern = JSON_PATTERN_DIGITS,                    \
                                         .big_note = "a number within ±2^53 "                   \
                                                     "(9007199254740992), otherwise a string "  \
                                                     "of its exact digits" },                   \
                [API_OUTPUT_BOOLEAN] = { .write = JSON_WRITE_BOOLEAN, .type = "boolean",        \
                                         .note = "written as true or false" },                  \
                [API_OUTPUT_NUMBER] = { .write = JSON_WRITE_NUMBER, .type = "integer",          \
                                        .big_note = "always a number, with every digit" },      \
                [API_OUTPUT_STRING] = { .write = JSON_WRITE_QUOTED, .type = "string",           \
                                        .pattern = JSON_PATTERN_DIGITS,                         \
                                        .note = "a string of its digits" },                     \
        }

#define REAL_FORMS                                                                              \
        {                                                                                       \
                [API_OUTPUT_DEFAULT] = { .write = JSON_WRITE_NUMBER, .type = "number",          \
                                         .note = "in the shortest form that reads back the "    \
                                                 "same" },                                      \
                [API_OUTPUT_BOOLEAN] = { .write = JSON_WRITE_NUMBER, .type = "number",          \
                                         .note = "in the shortest form that reads back the "    \
                                                 "same" },                                      \
                [API_OUTPUT_NUMBER] = { .write = JSON_WRITE_NUMBER, .type = "number",           \
                                        .note = "in the shortest form that reads back the "     \
                                                "same" },                                       \
                [API_OUTPUT_STRING] = { .write = JSON_WRITE_QUOTED, .type = "string",           \
                                        .note = "a string of the shortest form that reads "     \
                                                "back the same" },                              \
        }

#define DECIMAL_AS_STRING                                                                       \
        {                                                                                       \
                .write = JSON_WRITE_STRING, .type = "string", .pattern = JSON_PATTERN_DECIMAL,  \
                .note = "a string of the exact digits MariaDB prints"                           \
        }

static const kind_row_t KINDS[JSON_KINDS] = {
        [JSON_KIND_INT] = { .forms = INTEGER_FORMS },
        [JSON_KIND_BIT] = { .always_unsigned = true, .forms = INTEGER_FORMS },
        [JSON_KIND_FLOAT] = { .forms = REAL_FORMS },
        [JSON_KIND_DOUBLE] = { .forms = REAL_FORMS },
        [JSON_KIND_DECIMAL] = {
                .forms = {
                        [API_OUTPUT_DEFAULT] = DECIMAL_AS_STRING,
                        [API_OUTPUT_BOOLEAN] = DECIMAL_AS_STRING,
                        /* MariaDB's own digits are valid JSON numbers. */
                        [API_OUTPUT_NUMBER] = { .write = JSON_WRITE_NUMBER, .type = "number",
                                                .note = "a number with the exact digits MariaDB "
                                                        "prints" },
                        [API_OUTPUT_STRING] = DECIMAL_AS_STRING,
                },
        },
        [JSON_KIND_DATE] = {
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_TEMPORAL, .type = "string",
                                        .format = "date", .pattern = JSON_PATTERN_DATE }),
        },
        [JSON_KIND_DATETIME] = {
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_TEMPORAL, .type = "string",
                                        .pattern = JSON_PATTERN_DATETIME,
                                        .note = "without an offset" }),
        },
        [JSON_KIND_TIMESTAMP] = {
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_TEMPORAL, .type = "string",
                                        .format = "date-time", .pattern = JSON_PATTERN_TIMESTAMP,
                                        .note = "with the session offset (QUERYD_TIME_ZONE)" }),
        },
        [JSON_KIND_TIME] = {
                /* Hours may pass 24 and the value may be negative: kept as MariaDB gives it. */
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_TEMPORAL, .type = "string",
                                        .pattern = JSON_PATTERN_TIME,
                                        .note = "may be negative or beyond 24 hours" }),
        },
        [JSON_KIND_TEXT] = {
                .csv_as_is = true,
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_STRING, .type = "string" }),
        },
        [JSON_KIND_BINARY] = {
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_BASE64, .type = "string",
                                        .encoding = "base64", .pattern = JSON_PATTERN_BASE64,
                                        .note = "base64 (standard alphabet, padded)" }),
        },
        [JSON_KIND_JSON] = {
                .csv_as_is = true,
                .forms = EVERY_OUTPUT({ .write = JSON_WRITE_EMBEDDED,
                                        .note = "embedded as a JSON value of any type" }),
        },
};

static const type_row_t *type_row(enum enum_field_types type)
{
        if ((unsigned)type < sizeof(TYPES) / sizeof(TYPES[0]) && TYPES[type].name != NULL)
                return &TYPES[type];
        return &OTHER_TYPE;
}

json_kind_t json_types_kind(enum enum_field_types type, unsigned charsetnr, bool is_json)
{
        const type_row_t *row = type_row(type);

        if (row->kind != JSON_KIND_TEXT)
                return row->kind;
        if (is_json)
                return JSON_KIND_JSON;
        return charsetnr == JSON_TYPES_BINARY_CHARSET ? JSON_KIND_BINARY : JSON_KIND_TEXT;
}

const json_form_t *json_types_form(json_kind_t kind, api_output_t output)
{
        if ((unsigned)kind >= JSON_KINDS)
                kind = JSON_KIND_TEXT;
        if ((unsigned)output >= JSON_TYPES_OUTPUTS)
                output = API_OUTPUT_DEFAULT;
        return &KINDS[kind].forms[output];
}

bool json_types_always_unsigned(json_kind_t kind)
{
        return (unsigned)kind < JSON_KINDS && KINDS[kind].always_unsigned;
}

bool json_types_csv_as_is(json_kind_t kind)
{
        return (unsigned)kind < JSON_KINDS && KINDS[kind].csv_as_is;
}

bool json_types_may_pass_exact(json_kind_t kind, enum enum_field_types type, unsigned long length)
{
        if (kind == JSON_KIND_INT)
                return type == MYSQL_TYPE_LONGLONG;
        return kind == JSON_KIND_BIT && length > JSON_TYPES_MAX_EXACT_BITS;
}

const char *json_types_sql_name(enum enum_field_types type, unsigned flags, unsigned charsetnr,
                                bool is_json)
{
        const type_row_t *row = type_row(type);

        if (json_types_kind(type, charsetnr, is_json) == JSON_KIND_JSON)
                return "JSON";
        if (type == MYSQL_TYPE_STRING && (flags & ENUM_FLAG))
                return "ENUM";
        if (type == MYSQL_TYPE_STRING && (flags & SET_FLAG))
                return "SET";
        if (charsetnr == JSON_TYPES_BINARY_CHARSET && row->binary_name != NULL)
                return row->binary_name;
        return row->name;
}

/* The fraction a temporal value shows (json_types_fraction_digits) as a pattern. */
static void fraction_pattern(unsigned decimals, char *out, size_t size)
{
        if (decimals == 0)
                snprintf(out, size, "%s", "");
        else if (decimals <= 6)
                snprintf(out, size, "\\.[0-9]{%u}", decimals);
        else
                snprintf(out, size, "%s", "(\\.[0-9]{6})?");
}

void json_types_pattern(json_pattern_t pattern, bool is_unsigned, unsigned decimals, char *out,
                        size_t size)
{
        char fraction[24];

        fraction_pattern(decimals, fraction, sizeof(fraction));
        switch (pattern) {
        case JSON_PATTERN_DIGITS:
                snprintf(out, size, "%s", is_unsigned ? "^[0-9]+$" : "^-?[0-9]+$");
                return;
        case JSON_PATTERN_DECIMAL:
                snprintf(out, size, "%s", "^-?[0-9]+(\\.[0-9]+)?$");
                return;
        case JSON_PATTERN_DATE:
                snprintf(out, size, "%s", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
                return;
        case JSON_PATTERN_DATETIME:
                snprintf(out, size, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}%s$",
                         fraction);
                return;
        case JSON_PATTERN_TIMESTAMP:
                snprintf(out, size,
                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}%s"
                         "[+-][0-9]{2}:[0-9]{2}$",
                         fraction);
                return;
        case JSON_PATTERN_TIME:
                snprintf(out, size, "^-?[0-9]{2,}:[0-9]{2}:[0-9]{2}%s$", fraction);
                return;
        case JSON_PATTERN_BASE64:
                snprintf(out, size, "%s",
                         "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$");
                return;
        default:
                snprintf(out, size, "%s", "");
                return;
        }
}
