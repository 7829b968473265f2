/* What the readers of the configuration file share: messages that say where
 * the parse is, and the checks every section makes of keys, names, numbers
 * and paths. */
#include "api/api_config_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

int cfg_fail(const cfg_ctx_t *c, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        if (c->err_size == 0)
                return -EINVAL;
        if (c->section == NULL)
                snprintf(c->err, c->err_size, "%s: %s", c->source, message);
        else if (c->index == SIZE_MAX) /* a section that is one object: "auth" */
                snprintf(c->err, c->err_size, "%s: %s: %s", c->source, c->section, message);
        else if (c->path == NULL)
                snprintf(c->err, c->err_size, "%s: %s[%zu]: %s", c->source, c->section,
                         c->index, message);
        else if (c->param == NULL)
                snprintf(c->err, c->err_size, "%s: %s[%zu] \"%s\": %s", c->source, c->section,
                         c->index, c->path, message);
        else
                snprintf(c->err, c->err_size, "%s: %s[%zu] \"%s\": parameter \"%s\": %s",
                         c->source, c->section, c->index, c->path, c->param, message);
        return -EINVAL;
}

int cfg_nomem(const cfg_ctx_t *c)
{
        if (c->err_size > 0)
                snprintf(c->err, c->err_size, "%s: out of memory", c->source);
        return -ENOMEM;
}

/*
 * A name from the file, quoted for a message: quotes, backslashes and control
 * characters escaped and long text cut (never inside a UTF-8 sequence), so
 * the message stays one readable line whatever the file holds.
 */
const char *cfg_show_n(char buf[CFG_SHOW_SIZE], const char *text, size_t len)
{
        const unsigned char *end = (const unsigned char *)text + len;
        size_t n = 0;

        buf[n++] = '"';
        for (const unsigned char *p = (const unsigned char *)text; p < end; p++) {
                /* A character adds at most 4 bytes: cut before one while room stays for
                 * `..."`, and mid-way only in text that is not UTF-8. */
                if (n >= CFG_SHOW_SIZE - 12 && ((*p & 0xc0) != 0x80 || n >= CFG_SHOW_SIZE - 8)) {
                        memcpy(buf + n, "...", 3);
                        n += 3;
                        break;
                }
                if (*p == '"' || *p == '\\')
                        n += (size_t)snprintf(buf + n, CFG_SHOW_SIZE - n, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        n += (size_t)snprintf(buf + n, CFG_SHOW_SIZE - n, "\\x%02x", *p);
                else
                        buf[n++] = (char)*p;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

const char *cfg_show(char buf[CFG_SHOW_SIZE], const char *text)
{
        return cfg_show_n(buf, text, strlen(text));
}

static bool in_list(const char *name, const char *const *list)
{
        for (; *list != NULL; list++)
                if (strcmp(name, *list) == 0)
                        return true;
        return false;
}

/* Unknown keys are errors: a misspelt "max_limt" must not silently mean the default. */
int cfg_check_keys(const cfg_ctx_t *c, json_t *object, const char *const *allowed)
{
        const char *key;
        json_t *value;
        char b[CFG_SHOW_SIZE];

        json_object_foreach(object, key, value) {
                if (!in_list(key, allowed))
                        return cfg_fail(c, "unknown key %s", cfg_show(b, key));
        }
        return 0;
}

/* An optional integer member within [min, max]; def when absent. */
int cfg_get_unsigned(const cfg_ctx_t *c, json_t *object, const char *key, unsigned min,
                            unsigned max, unsigned def, unsigned *ret)
{
        json_t *v = json_object_get(object, key);

        if (v == NULL) {
                *ret = def;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return cfg_fail(c, "\"%s\" must be an integer from %u to %u", key, min, max);
        *ret = (unsigned)json_integer_value(v);
        return 0;
}

int cfg_parse_methods(const cfg_ctx_t *c, json_t *v, const char *what, unsigned *ret)
{
        static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
        char b[CFG_SHOW_SIZE];
        unsigned methods = 0;

        if (!json_is_array(v) || json_array_size(v) == 0)
                return cfg_fail(c, "%s\"methods\" must be a non-empty array of GET, POST, PUT, "
                                "PATCH and DELETE", what);
        for (size_t i = 0; i < json_array_size(v); i++) {
                const char *name = json_string_value(json_array_get(v, i));
                unsigned bit = 0;
                for (size_t j = 0; name != NULL && j < sizeof(names) / sizeof(names[0]); j++)
                        if (strcmp(name, names[j]) == 0)
                                bit = 1u << j; /* API_METHOD_* in this order */
                if (bit == 0)
                        return cfg_fail(c, "%s\"methods\": %s is not one of GET, POST, PUT, "
                                        "PATCH, DELETE", what,
                                        name ? cfg_show(b, name) : "a non-string");
                if (methods & bit)
                        return cfg_fail(c, "%s\"methods\": %s appears twice", what,
                                        cfg_show(b, name));
                methods |= bit;
        }
        *ret = methods;
        return 0;
}

static bool is_ascii_letter(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* The name grammar of placeholders, which path parameters and declared
 * parameters share so that every one of them can be bound. */
bool cfg_is_param_name(const char *name, size_t len)
{
        if (len == 0 || !(is_ascii_letter(name[0]) || name[0] == '_'))
                return false;
        for (size_t i = 1; i < len; i++)
                if (!(is_ascii_letter(name[i]) || name[i] == '_' ||
                      (name[i] >= '0' && name[i] <= '9')))
                        return false;
        return true;
}

bool cfg_is_claim_path(const char *text)
{
        for (;;) {
                size_t len = strcspn(text, ".");
                if (!cfg_is_param_name(text, len))
                        return false;
                if (text[len] == '\0')
                        return true;
                text += len + 1;
        }
}

/* Table and column names: 1 to 64 characters, counted as MariaDB counts them. */
bool cfg_is_db_name(const char *name)
{
        size_t chars = 0;

        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
                if ((*p & 0xc0) != 0x80)
                        chars++;
        return chars >= 1 && chars <= CFG_NAME_MAX_CHARS;
}

/* `name` with backticks doubled: an identifier the SQL can hold whatever it is. */
char *cfg_quote_identifier(const char *name)
{
        strbuf_t b = { 0 };

        strbuf_append_char(&b, '`');
        for (const char *p = name; *p != '\0'; p++) {
                if (*p == '`')
                        strbuf_append_char(&b, '`');
                strbuf_append_char(&b, *p);
        }
        strbuf_append_char(&b, '`');
        if (b.failed) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_take(&b, NULL);
}

/* ---- paths ---- */

/* The router's rule for a capturing segment. */
bool cfg_is_capture(const char *segment, size_t len)
{
        return len > 2 && segment[0] == '{' && segment[len - 1] == '}';
}

static bool is_literal(const char *segment, size_t len)
{
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_.~-";

        for (size_t i = 0; i < len; i++)
                if (strchr(allowed, segment[i]) == NULL)
                        return false;
        /* "." and ".." would read as a directory walk to any proxy in front. */
        return len > 0 && !(len <= 2 && strspn(segment, ".") >= len);
}

/* The {name} segments of a path already checked, in order. */
size_t cfg_path_params(const char *path, const char **ret_names, size_t *ret_lens)
{
        size_t count = 0;

        for (const char *seg = path; *seg == '/' && count < ROUTER_MAX_PARAMS; ) {
                seg++;
                size_t len = strcspn(seg, "/");
                if (cfg_is_capture(seg, len)) {
                        ret_names[count] = seg + 1;
                        ret_lens[count++] = len - 2;
                }
                seg += len;
        }
        return count;
}

static int check_segment(const cfg_ctx_t *c, const char *path, const char *seg, size_t len,
                         bool allow_params)
{
        char b[CFG_SHOW_SIZE], s[CFG_SHOW_SIZE];

        if (len == 0)
                return cfg_fail(c, "path %s has an empty segment", cfg_show(b, path));
        if (is_literal(seg, len))
                return 0;
        if (!cfg_is_capture(seg, len))
                return cfg_fail(c, "path %s: segment %s must be made of A-Z a-z 0-9 _ . ~ -%s",
                                cfg_show(b, path), cfg_show_n(s, seg, len),
                                allow_params ? " or be a {name}" : "");
        if (!allow_params)
                return cfg_fail(c, "path %s: a resource path has no {parameters} (the item "
                                "path adds the key)", cfg_show(b, path));
        if (!cfg_is_param_name(seg + 1, len - 2))
                return cfg_fail(c, "path %s: in %s, a name is letters, digits and _, not "
                                "starting with a digit",
                                cfg_show(b, path), cfg_show_n(s, seg, len));
        return 0;
}

/* "/" + literal segments, and for queries {name} segments, at most 8, distinct. */
static int check_path(const cfg_ctx_t *c, const char *path, bool allow_params)
{
        const char *names[ROUTER_MAX_PARAMS];
        size_t lens[ROUTER_MAX_PARAMS];
        size_t count = 0;
        char b[CFG_SHOW_SIZE];

        if (path[0] != '/' || path[1] == '\0')
                return cfg_fail(c, "path %s must be \"/\" followed by segments", cfg_show(b, path));
        for (const char *seg = path; *seg == '/'; ) {
                seg++;
                size_t len = strcspn(seg, "/");
                int r = check_segment(c, path, seg, len, allow_params);
                if (r < 0)
                        return r;
                if (cfg_is_capture(seg, len)) {
                        for (size_t i = 0; i < count; i++)
                                if (lens[i] == len - 2 && memcmp(names[i], seg + 1, len - 2) == 0)
                                        return cfg_fail(c,
                                                        "path %s: parameter {%.*s} appears twice",
                                                        cfg_show(b, path), (int)len - 2, seg + 1);
                        if (count == ROUTER_MAX_PARAMS)
                                return cfg_fail(c, "path %s: more than %d path parameters",
                                                cfg_show(b, path), ROUTER_MAX_PARAMS);
                        names[count] = seg + 1;
                        lens[count++] = len - 2;
                }
                seg += len;
        }
        return 0;
}

/* Checks the entry is an object with a valid "path" and copies the path. */
int cfg_entry_path(cfg_ctx_t *c, json_t *entry, bool allow_params, char **ret)
{
        if (!json_is_object(entry))
                return cfg_fail(c, "an entry must be an object");
        json_t *v = json_object_get(entry, "path");
        if (v == NULL)
                return cfg_fail(c, "\"path\" is required");
        if (!json_is_string(v))
                return cfg_fail(c, "\"path\" must be a string");
        int r = check_path(c, json_string_value(v), allow_params);
        if (r < 0)
                return r;
        *ret = strdup(json_string_value(v));
        if (*ret == NULL)
                return cfg_nomem(c);
        c->path = *ret;
        return 0;
}

/* ---- "types" ---- */

int cfg_type_override(const cfg_ctx_t *c, const char *column, json_t *v, api_output_t *ret)
{
        static const char *const names[] = { "boolean", "number", "string" };
        static const api_output_t outputs[] = { API_OUTPUT_BOOLEAN, API_OUTPUT_NUMBER,
                                                API_OUTPUT_STRING };
        char b[CFG_SHOW_SIZE];

        /* The name is checked like any column name. */
        if (!cfg_is_db_name(column))
                return cfg_fail(c, "\"types\": column name %s must be 1 to %d characters",
                                cfg_show(b, column), CFG_NAME_MAX_CHARS);
        for (size_t i = 0; json_is_string(v) && i < 3; i++) {
                if (strcmp(json_string_value(v), names[i]) == 0) {
                        *ret = outputs[i];
                        return 0;
                }
        }
        return cfg_fail(c, "\"types\": column %s must be \"boolean\", \"number\" or \"string\"",
                        cfg_show(b, column));
}
