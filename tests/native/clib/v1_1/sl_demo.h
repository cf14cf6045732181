/* sl_demo 1.1: compatible with 1.0 (a function, a const, an enum member added). */
#ifndef SL_DEMO_H
#define SL_DEMO_H

#include <stddef.h>

#define SL_DEMO_VERSION 101
#define SL_NAME_MAX (16 * 2)
#define SL_FLAG_ALL ((1 << 3) - 1)

typedef enum sl_color { SL_RED, SL_GREEN, SL_BLUE = 4, SL_YELLOW = 8 } sl_color;

struct sl_point {
    int x;
    int y;
};

struct sl_record {
    int id;
    double weight;
    char name[SL_NAME_MAX];
    unsigned flags : 3;
    unsigned level : 5;
};

struct sl_wire {
    char tag;
    int value;
    short count;
};

typedef struct sl_handle sl_handle;
typedef int (*sl_visit)(int value, void *user);

int sl_add(int a, int b);
long sl_scale(int value, int factor);
int sl_manhattan(const struct sl_point *a, const struct sl_point *b);
struct sl_point sl_mid(struct sl_point a, struct sl_point b);
void sl_record_init(struct sl_record *r, int id, const char *name);
int sl_record_level(const struct sl_record *r);
sl_handle *sl_open(int capacity);
int sl_push(sl_handle *h, int value);
int sl_each(sl_handle *h, sl_visit visit, void *user);
void sl_close(sl_handle *h);
sl_color sl_next_color(sl_color c);
size_t sl_checksum(const unsigned char *data, size_t n);
void sl_fill(unsigned char *out, size_t n, unsigned char value);
int sl_wire_sum(const struct sl_wire *w);
int sl_sum(int count, ...);
const char *sl_version_string(void);
int sl_versioned(void);
int sl_sub(int a, int b);

#endif
