/* Named placeholders: a scan that knows just enough of MariaDB's lexical
 * rules (quotes, comments) to tell ":name" in code from ":name" in a string,
 * since binding a value into a string literal would silently change the query. */
#include "sql/named_sql.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

typedef struct scan {
        const char *sql;
        size_t pos;
        strbuf_t out;
        char **names;
        size_t name_count, name_cap;
        bool has_statement;     /* some code before the end or a ';' */
        bool ended;             /* a ';' was seen: nothing more is copied */
        char *err;
        size_t err_size;
} scan_t;

static int fail(scan_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(scan_t *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (s->err_size > 0)
                vsnprintf(s->err, s->err_size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static bool is_name_start(char c)
{
        return isalpha((unsigned char)c) || c == '_';
}

static bool is_name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/* What may precede a ':' that is part of a word, not a placeholder. */
static bool is_identifier_char(char c)
{
        return is_name_char(c) || c == '$' || (unsigned char)c >= 0x80;
}

/* Copies n bytes of the sql as they are, unless the statement has ended. */
static void copy(scan_t *s, size_t n)
{
        if (!s->ended)
                strbuf_append(&s->out, s->sql + s->pos, n);
        s->pos += n;
}

/* '...' and "..." take backslash escapes and a doubled quote; `...` only the
 * doubled quote. The whole quoted text is copied untouched. */
static int skip_quoted(scan_t *s)
{
        const char *sql = s->sql;
        char quote = sql[s->pos];
        size_t start = s->pos;
        size_t i = start + 1;

        for (;;) {
                if (sql[i] == '\0')
                        return fail(s, "unterminated %c...%c quote starting at byte %zu",
                                    quote, quote, start);
                if (sql[i] == '\\' && quote != '`' && sql[i + 1] != '\0') {
                        i += 2;
                } else if (sql[i] == quote && sql[i + 1] == quote) {
                        i += 2;
                } else if (sql[i] == quote) {
                        break;
                } else {
                        i++;
                }
        }
        copy(s, i + 1 - start);
        return 0;
}

/* MariaDB starts a "--" comment only when a space or control character
 * follows, so "1--1" stays arithmetic. */
static bool is_dash_comment(const char *p)
{
        return p[0] == '-' && p[1] == '-' &&
               (p[2] == '\0' || isspace((unsigned char)p[2]) || iscntrl((unsigned char)p[2]));
}

static int skip_comment(scan_t *s)
{
        const char *p = s->sql + s->pos;

        if (p[0] == '#' || p[0] == '-') {
                copy(s, strcspn(p, "\n"));
                return 0;
        }
        if (p[2] == '!' || (p[2] == 'M' && p[3] == '!'))
                return fail(s, "executable comment at byte %zu: not supported", s->pos);
        const char *close = strstr(p + 2, "*/");
        if (close == NULL)
                return fail(s, "unterminated comment starting at byte %zu", s->pos);
        copy(s, (size_t)(close + 2 - p));
        return 0;
}

static int add_name(scan_t *s, const char *name, size_t len)
{
        if (s->name_count == s->name_cap) {
                size_t cap = s->name_cap ? s->name_cap * 2 : 8;
                char **names = realloc(s->names, cap * sizeof(*names));
                if (names == NULL)
                        return -ENOMEM;
                s->names = names;
                s->name_cap = cap;
        }
        char *copy_of_name = strndup(name, len);
        if (copy_of_name == NULL)
                return -ENOMEM;
        s->names[s->name_count++] = copy_of_name;
        return 0;
}

/* At a ':' in code: a placeholder becomes "?", anything else is copied. */
static int colon(scan_t *s)
{
        const char *p = s->sql + s->pos;

        if (p[1] == ':') {
                copy(s, strspn(p, ":"));
                return 0;
        }
        if (p[1] == '=' || (s->pos > 0 && is_identifier_char(p[-1])) || !is_name_start(p[1])) {
                copy(s, 1);
                return 0;
        }
        size_t len = 1;
        /* A name may have dotted parts, as :claims.sub has: a path into the caller's claims. */
        while (is_name_char(p[1 + len]) || (p[1 + len] == '.' && is_name_start(p[2 + len])))
                len++;
        int r = add_name(s, p + 1, len);
        if (r < 0)
                return r;
        strbuf_append_char(&s->out, '?');
        s->pos += 1 + len;
        return 0;
}

/* One step of the scan outside quotes and comments. */
static int code(scan_t *s)
{
        char c = s->sql[s->pos];

        if (isspace((unsigned char)c)) {
                copy(s, 1);
                return 0;
        }
        if (s->ended)
                return fail(s, "text after the ';' at byte %zu: one statement only", s->pos);
        if (c == ';') {
                s->ended = true;
                s->pos++;
                return 0;
        }
        if (c == '?')
                return fail(s, "'?' at byte %zu is an anonymous placeholder: use :name",
                            s->pos);
        s->has_statement = true;
        if (c == ':')
                return colon(s);
        copy(s, 1);
        return 0;
}

static int step(scan_t *s)
{
        const char *p = s->sql + s->pos;

        if (p[0] == '#' || is_dash_comment(p) || (p[0] == '/' && p[1] == '*'))
                return skip_comment(s);
        if (p[0] == '\'' || p[0] == '"' || p[0] == '`') {
                if (s->ended)
                        return fail(s, "text after the ';' at byte %zu: one statement only",
                                    s->pos);
                s->has_statement = true;
                return skip_quoted(s);
        }
        return code(s);
}

static void free_names(char **names, size_t count)
{
        for (size_t i = 0; i < count; i++)
                free(names[i]);
        free(names);
}

int named_sql_rewrite(const char *sql, named_sql_t *ret, char *err, size_t err_size)
{
        scan_t s = { .sql = sql, .err = err, .err_size = err_size };
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        while (r == 0 && sql[s.pos] != '\0')
                r = step(&s);
        if (r == 0 && !s.has_statement)
                r = fail(&s, "the sql holds no statement");
        if (r == 0 && !s.out.failed)
                ret->bound_sql = strbuf_take(&s.out, NULL);
        if (r == 0 && ret->bound_sql == NULL)
                r = -ENOMEM;
        if (r < 0) {
                if (r == -ENOMEM)
                        fail(&s, "out of memory");
                strbuf_done(&s.out);
                free_names(s.names, s.name_count);
                return r;
        }
        ret->names = s.names;
        ret->name_count = s.name_count;
        return 0;
}

void named_sql_done(named_sql_t *n)
{
        free(n->bound_sql);
        free_names(n->names, n->name_count);
        memset(n, 0, sizeof(*n));
}
