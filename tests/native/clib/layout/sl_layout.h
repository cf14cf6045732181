/* sl_layout: layouts real headers use (C11 anonymous members, unnamed and packed bit-fields,
   packed and aligned structs) and types ctypes cannot pass. */
#ifndef SL_LAYOUT_H
#define SL_LAYOUT_H

struct sl_event {
    int kind;
    union {
        struct { int x, y; };                                         /* kind 1: a point */
        struct { unsigned code : 12; unsigned : 4; unsigned mods : 8; };  /* kind 2: a key */
        double value;                                                 /* kind 3: a value */
    };
    unsigned : 3;
    unsigned urgent : 1;
    struct { char tag; short weight; } __attribute__((packed));
};

struct sl_aligned {
    char c;
    int v __attribute__((aligned(16)));
};

typedef struct {
    char tag;
    union { long number; unsigned char bytes[3]; };
} sl_tagged;

void sl_event_fill(struct sl_event *e, int kind);
long sl_event_sum(const struct sl_event *e);
sl_tagged sl_tag(long number);
int sl_aligned_get(const struct sl_aligned *a);
__int128 sl_wide(__int128 x);

#endif
