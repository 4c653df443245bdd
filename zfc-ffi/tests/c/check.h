/* The checks every C test counts and reports. */
#ifndef ZFC_TEST_CHECK_H
#define ZFC_TEST_CHECK_H

#include <stdio.h>

#include "zfc.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        checks++;                                                                       \
        if (!(cond)) {                                                                  \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                               \
    } while (0)

#define CHECK_OK(call)                                                                  \
    do {                                                                                \
        zfc_result r_ = (call);                                                         \
        checks++;                                                                       \
        if (r_ != ZFC_OK) {                                                             \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s returned %u (%s)\n", __FILE__, __LINE__, #call,  \
                    (unsigned)r_, zfc_result_text(r_));                                 \
        }                                                                               \
    } while (0)

#define CHECK_ERR(call, expected)                                                       \
    do {                                                                                \
        zfc_result r_ = (call);                                                         \
        checks++;                                                                       \
        if (r_ != (expected)) {                                                         \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u\n", __FILE__,       \
                    __LINE__, #call, (unsigned)r_, zfc_result_text(r_),                 \
                    (unsigned)(expected));                                              \
        }                                                                               \
    } while (0)


static inline int finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, checks, failures);
    return failures ? 1 : 0;
}

#endif
