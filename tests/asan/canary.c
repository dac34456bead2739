/* The sanitizers' self-test, run by `make check-asan` before the suite: each mode commits one
 * error the run must catch, so a run that reports nothing proves something (the options parse,
 * reports land in the log directory, the httpd user can write there, each kind halts).
 *   canary heap-overflow | signed-overflow | leak */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile kept;

static int canary_heap_overflow(void)
{
    volatile char *volatile buf = malloc(8);
    int i = 8;
    buf[i] = 'x'; /* one past the end */
    free((void *)buf);
    return 0;
}

static int canary_signed_overflow(void)
{
    volatile int big = INT_MAX;
    volatile int sum = big + 1;
    return sum == 0;
}

static int canary_leak(void)
{
    kept = malloc(4242);
    kept = NULL; /* unreachable at exit */
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "heap-overflow") == 0)
        return canary_heap_overflow();
    if (strcmp(mode, "signed-overflow") == 0)
        return canary_signed_overflow();
    if (strcmp(mode, "leak") == 0)
        return canary_leak();
    fprintf(stderr, "usage: canary heap-overflow|signed-overflow|leak\n");
    return 2;
}
