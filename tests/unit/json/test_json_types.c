/*
 * Unit tests for the type table: the kind of every SQL type (charset and
 * format deciding for text-like ones), the names documents give them, and
 * that every form the table holds is one the row writer can apply to its
 * kind's values and that its schema describes what that write gives.
 */
#include <string.h>

#include "json/json_types.h"
#include "test.h"

enum { UTF8 = 45, BINARY = 63 };

static void test_kinds(void)
{
        static const struct {
                enum enum_field_types type;
                json_kind_t kind;
        } fixed[] = {
                { MYSQL_TYPE_TINY, JSON_KIND_INT },
                { MYSQL_TYPE_SHORT, JSON_KIND_INT },
                { MYSQL_TYPE_INT24, JSON_KIND_INT },
                { MYSQL_TYPE_LONG, JSON_KIND_INT },
                { MYSQL_TYPE_LONGLONG, JSON_KIND_INT },
                { MYSQL_TYPE_YEAR, JSON_KIND_INT },
                { MYSQL_TYPE_BIT, JSON_KIND_BIT },
                { MYSQL_TYPE_FLOAT, JSON_KIND_FLOAT },
                { MYSQL_TYPE_DOUBLE, JSON_KIND_DOUBLE },
                { MYSQL_TYPE_DECIMAL, JSON_KIND_DECIMAL },
                { MYSQL_TYPE_NEWDECIMAL, JSON_KIND_DECIMAL },
                { MYSQL_TYPE_DATE, JSON_KIND_DATE },
                { MYSQL_TYPE_NEWDATE, JSON_KIND_DATE },
                { MYSQL_TYPE_DATETIME, JSON_KIND_DATETIME },
                { MYSQL_TYPE_DATETIME2, JSON_KIND_DATETIME },
                { MYSQL_TYPE_TIMESTAMP, JSON_KIND_TIMESTAMP },
                { MYSQL_TYPE_TIMESTAMP2, JSON_KIND_TIMESTAMP },
                { MYSQL_TYPE_TIME, JSON_KIND_TIME },
                { MYSQL_TYPE_TIME2, JSON_KIND_TIME },
                { MYSQL_TYPE_GEOMETRY, JSON_KIND_BINARY },
                { MYSQL_TYPE_JSON, JSON_KIND_JSON },
        };

        /* Numbers, times and geometry whatever the charset and format say. */
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                ASSERT_EQ_INT(json_types_kind(fixed[i].type, UTF8, false), fixed[i].kind);
                ASSERT_EQ_INT(json_types_kind(fixed[i].type, BINARY, false), fixed[i].kind);
                ASSERT_EQ_INT(json_types_kind(fixed[i].type, BINARY, true), fixed[i].kind);
        }
        /* Text-like types: JSON by format, binary by charset, else text; unknown ones too. */
        static const enum enum_field_types textual[] = {
                MYSQL_TYPE_VARCHAR,   MYSQL_TYPE_VAR_STRING,  MYSQL_TYPE_STRING,
                MYSQL_TYPE_TINY_BLOB, MYSQL_TYPE_BLOB,        MYSQL_TYPE_MEDIUM_BLOB,
                MYSQL_TYPE_LONG_BLOB, MYSQL_TYPE_NULL,        MYSQL_TYPE_ENUM,
                MYSQL_TYPE_SET,
        };
        for (size_t i = 0; i < sizeof(textual) / sizeof(textual[0]); i++) {
                ASSERT_EQ_INT(json_types_kind(textual[i], UTF8, false), JSON_KIND_TEXT);
                ASSERT_EQ_INT(json_types_kind(textual[i], BINARY, false), JSON_KIND_BINARY);
                ASSERT_EQ_INT(json_types_kind(textual[i], UTF8, true), JSON_KIND_JSON);
                ASSERT_EQ_INT(json_types_kind(textual[i], BINARY, true), JSON_KIND_JSON);
        }
}

static void test_sql_names(void)
{
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_TINY, 0, BINARY, false), "TINYINT");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_INT24, 0, BINARY, false), "MEDIUMINT");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_LONGLONG, 0, BINARY, false), "BIGINT");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_YEAR, 0, BINARY, false), "YEAR");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_NEWDECIMAL, 0, BINARY, false), "DECIMAL");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_NEWDATE, 0, BINARY, false), "DATE");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_DATETIME2, 0, BINARY, false), "DATETIME");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_TIMESTAMP2, 0, BINARY, false), "TIMESTAMP");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_VAR_STRING, 0, UTF8, false), "VARCHAR");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_VAR_STRING, 0, BINARY, false), "VARBINARY");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_STRING, 0, UTF8, false), "CHAR");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_STRING, 0, BINARY, false), "BINARY");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_STRING, ENUM_FLAG, UTF8, false), "ENUM");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_STRING, SET_FLAG, BINARY, false), "SET");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_BLOB, 0, UTF8, false), "TEXT");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_LONG_BLOB, 0, BINARY, false), "BLOB");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_BLOB, 0, BINARY, true), "JSON");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_JSON, 0, UTF8, false), "JSON");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_GEOMETRY, 0, BINARY, true), "GEOMETRY");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_NULL, 0, BINARY, false), "NULL");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_ENUM, 0, UTF8, false), "text");
        ASSERT_EQ_STR(json_types_sql_name(MYSQL_TYPE_ENUM, 0, BINARY, false), "binary");
}

/* Whether the writer can apply write to values of kind (rowjson.c's append_value). */
static bool writable(json_kind_t kind, json_write_t write)
{
        switch (kind) {
        case JSON_KIND_INT:
        case JSON_KIND_BIT:
                return write == JSON_WRITE_EXACT || write == JSON_WRITE_BOOLEAN ||
                       write == JSON_WRITE_NUMBER || write == JSON_WRITE_QUOTED;
        case JSON_KIND_FLOAT:
        case JSON_KIND_DOUBLE:
                return write == JSON_WRITE_NUMBER || write == JSON_WRITE_QUOTED;
        case JSON_KIND_DATE:
        case JSON_KIND_DATETIME:
        case JSON_KIND_TIMESTAMP:
        case JSON_KIND_TIME:
                return write == JSON_WRITE_TEMPORAL;
        case JSON_KIND_DECIMAL:
                return write == JSON_WRITE_NUMBER || write == JSON_WRITE_STRING;
        case JSON_KIND_TEXT:
                return write == JSON_WRITE_STRING;
        case JSON_KIND_BINARY:
                return write == JSON_WRITE_BASE64 || write == JSON_WRITE_STRING;
        case JSON_KIND_JSON:
                return write == JSON_WRITE_EMBEDDED || write == JSON_WRITE_STRING;
        default:
                return false;
        }
}

/* The schema type that a write gives, for a kind: NULL for any value. */
static bool type_matches(json_kind_t kind, json_write_t write, const char *type)
{
        bool integer = kind == JSON_KIND_INT || kind == JSON_KIND_BIT;

        switch (write) {
        case JSON_WRITE_EXACT:
                return type != NULL && strcmp(type, "integer") == 0;
        case JSON_WRITE_BOOLEAN:
                return type != NULL && strcmp(type, "boolean") == 0;
        case JSON_WRITE_NUMBER:
                return type != NULL && strcmp(type, integer ? "integer" : "number") == 0;
        case JSON_WRITE_EMBEDDED:
                return type == NULL;
        default:
                return type != NULL && strcmp(type, "string") == 0;
        }
}

static void test_every_form_is_writable_and_described(void)
{
        for (int kind = 0; kind < JSON_KINDS; kind++) {
                for (int output = 0; output < JSON_TYPES_OUTPUTS; output++) {
                        const json_form_t *form =
                                json_types_form((json_kind_t)kind, (api_output_t)output);
                        ASSERT_NOT_NULL(form);
                        ASSERT_TRUE(writable((json_kind_t)kind, form->write));
                        ASSERT_TRUE(type_matches((json_kind_t)kind, form->write, form->type));
                        /* Only integers may pass +-2^53, and only their numbers differ. */
                        if (kind != JSON_KIND_INT && kind != JSON_KIND_BIT)
                                ASSERT_NULL(form->big_note);
                        /* The big form of an exact integer is a number or a string of digits. */
                        if (form->write == JSON_WRITE_EXACT) {
                                ASSERT_EQ_STR(form->big_alt_type, "string");
                                ASSERT_EQ_INT(form->big_pattern, JSON_PATTERN_DIGITS);
                        }
                }
        }
        /* Out-of-range arguments still give a form. */
        ASSERT_NOT_NULL(json_types_form(JSON_KINDS, API_OUTPUT_DEFAULT));
        ASSERT_NOT_NULL(json_types_form(JSON_KIND_INT, (api_output_t)99));
}

static void test_the_documented_mapping(void)
{
        /* README, "JSON types": the defaults and what each override changes. */
        ASSERT_EQ_INT(json_types_form(JSON_KIND_INT, API_OUTPUT_DEFAULT)->write, JSON_WRITE_EXACT);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_INT, API_OUTPUT_BOOLEAN)->write,
                      JSON_WRITE_BOOLEAN);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_INT, API_OUTPUT_NUMBER)->write, JSON_WRITE_NUMBER);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_INT, API_OUTPUT_STRING)->write, JSON_WRITE_QUOTED);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_DECIMAL, API_OUTPUT_DEFAULT)->write,
                      JSON_WRITE_STRING);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_DECIMAL, API_OUTPUT_NUMBER)->write,
                      JSON_WRITE_NUMBER);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_DOUBLE, API_OUTPUT_DEFAULT)->write,
                      JSON_WRITE_NUMBER);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_FLOAT, API_OUTPUT_STRING)->write,
                      JSON_WRITE_QUOTED);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_BINARY, API_OUTPUT_DEFAULT)->write,
                      JSON_WRITE_BASE64);
        ASSERT_EQ_INT(json_types_form(JSON_KIND_JSON, API_OUTPUT_STRING)->write,
                      JSON_WRITE_EMBEDDED);
        ASSERT_TRUE(json_types_always_unsigned(JSON_KIND_BIT));
        ASSERT_FALSE(json_types_always_unsigned(JSON_KIND_INT));
        ASSERT_TRUE(json_types_csv_as_is(JSON_KIND_TEXT));
        ASSERT_TRUE(json_types_csv_as_is(JSON_KIND_JSON));
        ASSERT_FALSE(json_types_csv_as_is(JSON_KIND_DECIMAL));
        ASSERT_FALSE(json_types_csv_as_is(JSON_KIND_BINARY));
}

static void test_may_pass_exact(void)
{
        ASSERT_TRUE(json_types_may_pass_exact(JSON_KIND_INT, MYSQL_TYPE_LONGLONG, 20));
        ASSERT_FALSE(json_types_may_pass_exact(JSON_KIND_INT, MYSQL_TYPE_LONG, 11));
        ASSERT_FALSE(json_types_may_pass_exact(JSON_KIND_BIT, MYSQL_TYPE_BIT, 53));
        ASSERT_TRUE(json_types_may_pass_exact(JSON_KIND_BIT, MYSQL_TYPE_BIT, 54));
        ASSERT_FALSE(json_types_may_pass_exact(JSON_KIND_DECIMAL, MYSQL_TYPE_NEWDECIMAL, 65));
}

static void test_fraction_digits_and_patterns(void)
{
        char pattern[128];

        ASSERT_EQ_UINT(json_types_fraction_digits(0, 123456), 0);
        ASSERT_EQ_UINT(json_types_fraction_digits(3, 123456), 3);
        ASSERT_EQ_UINT(json_types_fraction_digits(6, 0), 6);
        /* Computed values may claim 31 (or 39) digits: six when there is a fraction. */
        ASSERT_EQ_UINT(json_types_fraction_digits(31, 5), 6);
        ASSERT_EQ_UINT(json_types_fraction_digits(39, 0), 0);

        json_types_pattern(JSON_PATTERN_NONE, false, 0, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "");
        json_types_pattern(JSON_PATTERN_DIGITS, false, 0, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "^-?[0-9]+$");
        json_types_pattern(JSON_PATTERN_DIGITS, true, 0, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "^[0-9]+$");
        json_types_pattern(JSON_PATTERN_DATETIME, false, 0, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$");
        json_types_pattern(JSON_PATTERN_TIMESTAMP, false, 3, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                               "\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}$");
        json_types_pattern(JSON_PATTERN_TIME, false, 31, pattern, sizeof(pattern));
        ASSERT_EQ_STR(pattern, "^-?[0-9]{2,}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})?$");
}

int main(void)
{
        RUN_TEST(test_kinds);
        RUN_TEST(test_sql_names);
        RUN_TEST(test_every_form_is_writable_and_described);
        RUN_TEST(test_the_documented_mapping);
        RUN_TEST(test_may_pass_exact);
        RUN_TEST(test_fraction_digits_and_patterns);
        return test_report();
}
