#include "sl_layout.h"

void sl_event_fill(struct sl_event *e, int kind) {
    __builtin_memset(e, 0, sizeof *e);
    e->kind = kind;
    if (kind == 1) { e->x = 3; e->y = 4; }
    else if (kind == 2) { e->code = 0xABC; e->mods = 0x5A; }
    else e->value = 2.5;
    e->urgent = 1;
    e->tag = 't';
    e->weight = 300;
}
long sl_event_sum(const struct sl_event *e) {
    long base = e->kind + e->urgent + e->tag + e->weight;
    if (e->kind == 1) return base + e->x + e->y;
    if (e->kind == 2) return base + e->code + e->mods;
    return base + (long)(e->value * 10);
}
sl_tagged sl_tag(long number) { sl_tagged t = { 'n' }; t.number = number; return t; }
int sl_aligned_get(const struct sl_aligned *a) { return a->c + a->v; }
__int128 sl_wide(__int128 x) { return x * 2; }

/* Kept only for binaries linked long ago: sl_old@LAYOUT_1, no default version (@@). */
int sl_old_v1(void) { return 7; }
__asm__(".symver sl_old_v1, sl_old@LAYOUT_1");
