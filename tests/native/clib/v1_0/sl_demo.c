#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "sl_demo.h"

struct sl_handle { int count, capacity; int *values; };

int sl_add(int a, int b) { return a + b; }
long sl_scale(int value, int factor) { return (long)value * factor; }
int sl_manhattan(const struct sl_point *a, const struct sl_point *b) {
    return abs(a->x - b->x) + abs(a->y - b->y);
}
struct sl_point sl_mid(struct sl_point a, struct sl_point b) {
    struct sl_point m = { (a.x + b.x) / 2, (a.y + b.y) / 2 };
    return m;
}
void sl_record_init(struct sl_record *r, int id, const char *name) {
    memset(r, 0, sizeof *r);
    r->id = id;
    r->weight = id * 1.5;
    strncpy(r->name, name, sizeof r->name - 1);
    r->flags = SL_FLAG_ALL;
    r->level = (unsigned)id % 32;
}
int sl_record_level(const struct sl_record *r) { return (int)r->level; }
sl_handle *sl_open(int capacity) {
    sl_handle *h = calloc(1, sizeof *h);
    h->capacity = capacity;
    h->values = calloc((size_t)capacity, sizeof(int));
    return h;
}
int sl_push(sl_handle *h, int value) {
    if (h->count == h->capacity) return -1;
    h->values[h->count++] = value;
    return h->count;
}
int sl_each(sl_handle *h, sl_visit visit, void *user) {
    int total = 0;
    for (int i = 0; i < h->count; i++) total += visit(h->values[i], user);
    return total;
}
void sl_close(sl_handle *h) { free(h->values); free(h); }
sl_color sl_next_color(sl_color c) { return c == SL_RED ? SL_GREEN : c == SL_GREEN ? SL_BLUE : SL_RED; }
size_t sl_checksum(unsigned char *data, size_t n) {
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + data[i];
    return sum;
}
void sl_fill(unsigned char *out, size_t n, unsigned char value) { memset(out, value, n); }
int sl_wire_sum(const struct sl_wire *w) { return w->tag + w->value + w->count; }
int sl_sum(int count, ...) {
    va_list ap;
    int total = 0;
    va_start(ap, count);
    for (int i = 0; i < count; i++) total += va_arg(ap, int);
    va_end(ap);
    return total;
}
const char *sl_version_string(void) { return "sl_demo 1.0"; }

int sl_versioned_v1(void) { return 1; }
int sl_versioned_v2(void) { return 2; }
__asm__(".symver sl_versioned_v1, sl_versioned@SL_1");
__asm__(".symver sl_versioned_v2, sl_versioned@@SL_2");
