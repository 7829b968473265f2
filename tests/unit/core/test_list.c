/* Unit tests for the intrusive list: order, removal from any place, removal
 * twice, and the walks that may or may not remove as they go. */
#include "core/list.h"
#include "test.h"

typedef struct item {
        int value;
        list_node_t node;
} item_t;

/* The values on the list, in order, as digits ("123"); "" when empty. */
static const char *values(const list_node_t *head)
{
        static char text[32];
        size_t n = 0;

        list_for_each(node, head)
                if (n + 1 < sizeof(text))
                        text[n++] = (char)('0' + list_entry(node, item_t, node)->value);
        text[n] = '\0';
        return text;
}

static void test_empty(void)
{
        list_node_t head;

        list_init(&head);
        ASSERT_TRUE(list_is_empty(&head));
        ASSERT_NULL(list_first(&head));
        ASSERT_NULL(list_pop_head(&head));
        ASSERT_EQ_STR(values(&head), "");
}

static void test_push_head_and_tail(void)
{
        list_node_t head;
        item_t items[4] = { { .value = 1 }, { .value = 2 }, { .value = 3 }, { .value = 4 } };

        list_init(&head);
        list_push_tail(&head, &items[1].node);
        list_push_tail(&head, &items[2].node);
        list_push_head(&head, &items[0].node);
        list_push_tail(&head, &items[3].node);
        ASSERT_EQ_STR(values(&head), "1234");
        ASSERT_FALSE(list_is_empty(&head));
        ASSERT_EQ_PTR(list_entry(list_first(&head), item_t, node), &items[0]);
}

static void test_remove_anywhere_and_twice(void)
{
        list_node_t head;
        item_t items[3] = { { .value = 1 }, { .value = 2 }, { .value = 3 } };

        list_init(&head);
        for (int i = 0; i < 3; i++)
                list_push_tail(&head, &items[i].node);
        list_remove(&items[1].node);
        ASSERT_EQ_STR(values(&head), "13");
        ASSERT_FALSE(list_is_linked(&items[1].node));
        list_remove(&items[1].node); /* a second removal changes nothing */
        ASSERT_EQ_STR(values(&head), "13");
        list_remove(&items[2].node);
        list_remove(&items[0].node);
        ASSERT_TRUE(list_is_empty(&head));
}

static void test_zeroed_node_is_unlinked(void)
{
        item_t item = { 0 };

        ASSERT_FALSE(list_is_linked(&item.node));
        list_remove(&item.node);
        ASSERT_FALSE(list_is_linked(&item.node));
}

static void test_pop_head_in_order(void)
{
        list_node_t head;
        item_t items[3] = { { .value = 1 }, { .value = 2 }, { .value = 3 } };

        list_init(&head);
        for (int i = 0; i < 3; i++)
                list_push_tail(&head, &items[i].node);
        for (int i = 0; i < 3; i++) {
                list_node_t *node = list_pop_head(&head);
                ASSERT_EQ_PTR(node, &items[i].node);
                ASSERT_FALSE(list_is_linked(node));
        }
        ASSERT_TRUE(list_is_empty(&head));
}

static void test_safe_walk_removes_as_it_goes(void)
{
        list_node_t head;
        item_t items[5];

        list_init(&head);
        for (int i = 0; i < 5; i++) {
                items[i] = (item_t){ .value = i + 1 };
                list_push_tail(&head, &items[i].node);
        }
        list_for_each_safe(node, &head)
                if (list_entry(node, item_t, node)->value % 2 == 0)
                        list_remove(node);
        ASSERT_EQ_STR(values(&head), "135");
        list_for_each_safe(node, &head)
                list_remove(node);
        ASSERT_TRUE(list_is_empty(&head));
}

int main(void)
{
        RUN_TEST(test_empty);
        RUN_TEST(test_push_head_and_tail);
        RUN_TEST(test_remove_anywhere_and_twice);
        RUN_TEST(test_zeroed_node_is_unlinked);
        RUN_TEST(test_pop_head_in_order);
        RUN_TEST(test_safe_walk_removes_as_it_goes);
        return test_report();
}
