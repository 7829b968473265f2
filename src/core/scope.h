/*
 * Per-request cleanup scope: an arena for the request's small allocations, a
 * LIFO list of release functions, and a reference count so asynchronous work
 * (a closing timer, a query in flight) can keep the memory alive.
 */
#ifndef QUERYD_SCOPE_H
#define QUERYD_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct scope scope_t;
typedef struct scope_defer scope_defer_t;
typedef void (*scope_fn)(void *arg);

/** A new open scope with one reference, owned by the caller; NULL when out of memory. */
scope_t *scope_new(void);

/** Zeroed memory that lives until the scope is freed; NULL when out of memory. */
void *scope_alloc(scope_t *s, size_t size);

/** A copy of the first len bytes of text, NUL-terminated, freed with the scope. */
char *scope_strndup(scope_t *s, const char *text, size_t len);

/**
 * Registers fn(arg) to run when the scope closes, after every release
 * registered later (LIFO). ret_defer, when not NULL, receives a handle for
 * scope_cancel() or scope_release_now(). Returns -ECANCELED when the scope is
 * already closed (fn is not registered and not run: the caller still owns the
 * resource) and -ENOMEM when out of memory.
 */
int scope_defer(scope_t *s, scope_fn fn, void *arg, scope_defer_t **ret_defer);

/** Disarms one release: it will never run. Safe on NULL and on a spent defer. */
void scope_cancel(scope_defer_t *defer);

/** Runs one release now instead of at close; it will not run again. Safe on NULL. */
void scope_release_now(scope_defer_t *defer);

/** Takes a reference: the scope's memory stays valid until the matching unref. */
void scope_ref(scope_t *s);

/** Drops a reference; the last one frees the scope (closing it first if still open). */
void scope_unref(scope_t *s);

/**
 * Runs every armed release once, newest first, then drops the owner's
 * reference. A release may register no new releases (they are refused).
 */
void scope_close(scope_t *s);

/** Whether scope_close() has started. */
bool scope_is_closed(const scope_t *s);

/** Scopes allocated and not yet freed, process-wide: a leak check for tests and shutdown. */
long scope_live_count(void);

#endif
