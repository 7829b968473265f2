/*
 * The one mapping from SQL column types to JSON (README, "JSON types"): the
 * kind of value a column holds, how each kind is written under each output
 * override, and what the JSON schema of the written values says. The row
 * writer (rowjson.c) and the OpenAPI generator both read it, so a change to
 * the mapping is made here, once.
 */
#ifndef QUERYD_JSON_TYPES_H
#define QUERYD_JSON_TYPES_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

/* Integers within +-2^53 are numbers: a double holds them exactly. */
#define JSON_TYPES_MAX_EXACT_INT 9007199254740992LL
enum { JSON_TYPES_MAX_EXACT_BITS = 53, JSON_TYPES_BINARY_CHARSET = 63 };

/* The output overrides, API_OUTPUT_DEFAULT to API_OUTPUT_STRING. */
enum { JSON_TYPES_OUTPUTS = API_OUTPUT_STRING + 1 };

/** What a column's values are, whatever the route's output override. */
typedef enum json_kind {
        JSON_KIND_INT,       /* integer types and YEAR */
        JSON_KIND_BIT,       /* big-endian bytes of an unsigned integer */
        JSON_KIND_FLOAT,
        JSON_KIND_DOUBLE,
        JSON_KIND_DECIMAL,   /* exact digits as MariaDB prints them */
        JSON_KIND_DATE,
        JSON_KIND_DATETIME,
        JSON_KIND_TIMESTAMP, /* a datetime in the session's zone */
        JSON_KIND_TIME,
        JSON_KIND_TEXT,
        JSON_KIND_BINARY,
        JSON_KIND_JSON,      /* a JSON document */
        JSON_KINDS,
} json_kind_t;

/** How a value is written. */
typedef enum json_write {
        JSON_WRITE_EXACT,    /* integers: a number within +-2^53, else a string of the digits */
        JSON_WRITE_BOOLEAN,  /* integers: false for 0, true otherwise */
        JSON_WRITE_NUMBER,   /* a number: every digit, or a real's shortest exact form */
        JSON_WRITE_QUOTED,   /* a number's text as a string */
        JSON_WRITE_STRING,   /* the bytes as a string (DECIMAL's digits too) */
        JSON_WRITE_TEMPORAL, /* ISO 8601 text, TIMESTAMP with the zone's offset */
        JSON_WRITE_BASE64,   /* standard alphabet, padded */
        JSON_WRITE_EMBEDDED, /* the document as it is; a string when it is not valid JSON */
} json_write_t;

/** The pattern a JSON schema gives written values (json_types_pattern spells it). */
typedef enum json_pattern {
        JSON_PATTERN_NONE,
        JSON_PATTERN_DIGITS,    /* an integer's digits, signed or not */
        JSON_PATTERN_DECIMAL,
        JSON_PATTERN_DATE,
        JSON_PATTERN_DATETIME,  /* with the column's fraction digits */
        JSON_PATTERN_TIMESTAMP, /* the same with an offset */
        JSON_PATTERN_TIME,
        JSON_PATTERN_BASE64,
} json_pattern_t;

/** How one kind's values are written under one output, and their schema. */
typedef struct json_form {
        json_write_t write;
        const char *type;        /* JSON schema type; NULL: any value, null too */
        const char *format;      /* or NULL */
        const char *encoding;    /* contentEncoding, or NULL */
        json_pattern_t pattern;
        const char *note;        /* what a column's description adds, or NULL */
        /* For integer columns whose values may pass +-2^53, when big_note is set: */
        const char *big_alt_type;
        json_pattern_t big_pattern;
        const char *big_note;
} json_form_t;

/** The kind of a column of type (is_json: its format attribute says json). */
json_kind_t json_types_kind(enum enum_field_types type, unsigned charsetnr, bool is_json);

/** How kind is written under output, and what its schema says. Never NULL. */
const json_form_t *json_types_form(json_kind_t kind, api_output_t output);

/** Whether values of kind are unsigned whatever the column's flag says (BIT). */
bool json_types_always_unsigned(json_kind_t kind);

/** Whether a CSV field holds values of kind as they are rather than their JSON text. */
bool json_types_csv_as_is(json_kind_t kind);

/**
 * Whether an integer column (INT or BIT kind) may hold values past +-2^53:
 * BIGINT, and BIT wider than 53 (length: the display length, in bits).
 */
bool json_types_may_pass_exact(json_kind_t kind, enum enum_field_types type,
                               unsigned long length);

/**
 * The SQL name of a column's type as documents show it, without length or
 * precision: "BIGINT", "VARBINARY", "ENUM", "TIMESTAMP", "JSON".
 */
const char *json_types_sql_name(enum enum_field_types type, unsigned flags, unsigned charsetnr,
                                bool is_json);

/**
 * The fraction digits a temporal value of a column declaring decimals shows:
 * those declared, or (computed values may claim 31 or 39) six when the
 * value has a fraction and none otherwise.
 */
static inline unsigned json_types_fraction_digits(unsigned decimals, unsigned long micros)
{
        if (decimals <= 6)
                return decimals;
        return micros ? 6 : 0;
}

/**
 * Writes pattern as an ECMA-262 regular expression into out (size bytes,
 * "" for none) for a column with this sign and these fraction digits.
 */
void json_types_pattern(json_pattern_t pattern, bool is_unsigned, unsigned decimals, char *out,
                        size_t size);

#endif
