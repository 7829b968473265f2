/*
 * The one linked list: intrusive, doubly linked and circular, in the manner
 * of libuv's queue and the kernel's list.h. An object that sits on a list
 * embeds a list_node_t and is found again with list_entry(). Linking,
 * unlinking and the emptiness test are O(1) and never allocate.
 *
 * A head is a node of its own that list_init() points at itself. A zeroed
 * node (scope_alloc and calloc give one) is not on any list, and
 * list_remove() leaves a node that way, so removing twice is harmless.
 */
#ifndef QUERYD_LIST_H
#define QUERYD_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct list_node {
        struct list_node *prev, *next;
} list_node_t;

/** The object of type whose member node is. */
#define list_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

/** An empty list. */
static inline void list_init(list_node_t *head)
{
        head->prev = head->next = head;
}

static inline bool list_is_empty(const list_node_t *head)
{
        return head->next == head;
}

/** Whether node is on some list. */
static inline bool list_is_linked(const list_node_t *node)
{
        return node->next != NULL;
}

static inline void list_insert_after(list_node_t *at, list_node_t *node)
{
        node->prev = at;
        node->next = at->next;
        at->next->prev = node;
        at->next = node;
}

/** Adds node first. */
static inline void list_push_head(list_node_t *head, list_node_t *node)
{
        list_insert_after(head, node);
}

/** Adds node last. */
static inline void list_push_tail(list_node_t *head, list_node_t *node)
{
        list_insert_after(head->prev, node);
}

/** Takes node off its list; nothing when it is on none. */
static inline void list_remove(list_node_t *node)
{
        if (!list_is_linked(node))
                return;
        node->prev->next = node->next;
        node->next->prev = node->prev;
        node->prev = node->next = NULL;
}

/** The first node, or NULL when the list is empty. */
static inline list_node_t *list_first(const list_node_t *head)
{
        return list_is_empty(head) ? NULL : head->next;
}

/** Takes the first node off and returns it, or NULL when the list is empty. */
static inline list_node_t *list_pop_head(list_node_t *head)
{
        list_node_t *node = list_first(head);

        if (node != NULL)
                list_remove(node);
        return node;
}

/** Every node in order; the loop body must not remove node (see list_for_each_safe). */
#define list_for_each(node, head) for (list_node_t *node = (head)->next; node != (head); node = node->next)

/** Every node in order; the body may remove node, but no other. */
#define list_for_each_safe(node, head)                                                      \
        for (list_node_t *node = (head)->next, *node##_next = node->next; node != (head); \
             node = node##_next, node##_next = node->next)

#endif
