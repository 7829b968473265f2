/*
 * Per-request cleanup scope. Memory comes from a chain of blocks freed all at
 * once; releases are a singly linked stack so they run in LIFO order.
 */
#include "core/scope.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK_SIZE = 4096, ALIGNMENT = 16 };

typedef struct block {
        struct block *next;
        size_t used;
        size_t size;
        _Alignas(ALIGNMENT) unsigned char data[];
} block_t;

struct scope_defer {
        scope_defer_t *next;
        scope_fn fn;
        void *arg;
};

struct scope {
        block_t *blocks;
        scope_defer_t *defers;
        int refs;
        bool closed;
};

static atomic_long live_scopes;

static block_t *block_new(size_t size)
{
        if (size > SIZE_MAX - sizeof(block_t))
                return NULL;
        block_t *b = malloc(sizeof(*b) + size);

        if (b == NULL)
                return NULL;
        b->next = NULL;
        b->used = 0;
        b->size = size;
        return b;
}

scope_t *scope_new(void)
{
        scope_t *s = calloc(1, sizeof(*s));

        if (s == NULL)
                return NULL;
        s->refs = 1;
        atomic_fetch_add(&live_scopes, 1);
        return s;
}

void *scope_alloc(scope_t *s, size_t size)
{
        size_t rounded = (size + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1);
        block_t *b = s->blocks;

        if (rounded < size)
                return NULL;
        if (b == NULL || b->size - b->used < rounded) {
                /* Large requests get a block of their own behind the current one,
                 * so the current block's free space is not wasted. */
                b = block_new(rounded > BLOCK_SIZE ? rounded : BLOCK_SIZE);
                if (b == NULL)
                        return NULL;
                if (rounded > BLOCK_SIZE && s->blocks != NULL) {
                        b->next = s->blocks->next;
                        s->blocks->next = b;
                } else {
                        b->next = s->blocks;
                        s->blocks = b;
                }
        }
        void *p = b->data + b->used;
        b->used += rounded;
        memset(p, 0, size);
        return p;
}

char *scope_strndup(scope_t *s, const char *text, size_t len)
{
        char *copy = len < SIZE_MAX ? scope_alloc(s, len + 1) : NULL;

        if (copy == NULL)
                return NULL;
        memcpy(copy, text, len);
        copy[len] = '\0';
        return copy;
}

int scope_defer(scope_t *s, scope_fn fn, void *arg, scope_defer_t **ret_defer)
{
        if (ret_defer != NULL)
                *ret_defer = NULL;
        if (s->closed)
                return -ECANCELED;
        scope_defer_t *d = scope_alloc(s, sizeof(*d));
        if (d == NULL)
                return -ENOMEM;
        d->fn = fn;
        d->arg = arg;
        d->next = s->defers;
        s->defers = d;
        if (ret_defer != NULL)
                *ret_defer = d;
        return 0;
}

void scope_cancel(scope_defer_t *defer)
{
        if (defer != NULL)
                defer->fn = NULL;
}

void scope_release_now(scope_defer_t *defer)
{
        if (defer == NULL || defer->fn == NULL)
                return;
        scope_fn fn = defer->fn;
        defer->fn = NULL;
        fn(defer->arg);
}

void scope_ref(scope_t *s)
{
        s->refs++;
}

static void run_defers(scope_t *s)
{
        s->closed = true;
        while (s->defers != NULL) {
                scope_defer_t *d = s->defers;
                s->defers = d->next;
                scope_release_now(d);
        }
}

static void scope_free(scope_t *s)
{
        block_t *b = s->blocks;

        while (b != NULL) {
                block_t *next = b->next;
                free(b);
                b = next;
        }
        free(s);
        atomic_fetch_sub(&live_scopes, 1);
}

void scope_unref(scope_t *s)
{
        if (--s->refs > 0)
                return;
        /* A scope whose last reference goes without a close still releases
         * everything: nothing it owns may outlive it. */
        s->refs = 1;
        if (!s->closed)
                run_defers(s);
        if (--s->refs == 0)
                scope_free(s);
}

void scope_close(scope_t *s)
{
        if (s->closed)
                return;
        scope_ref(s);
        run_defers(s);
        s->refs--;      /* the ref taken above: releases may not free s under us */
        scope_unref(s); /* the owner's reference */
}

bool scope_is_closed(const scope_t *s)
{
        return s->closed;
}

long scope_live_count(void)
{
        return atomic_load(&live_scopes);
}
