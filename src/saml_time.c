#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "saml_time.h"

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int saml_time_parse(const char *text, apr_time_t *out)
{
    int year, mon, day, hour, min, sec;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (text == NULL || strlen(text) < 20)
        return -1;
    if (digits(text, 4, &year) || text[4] != '-' || digits(text + 5, 2, &mon) || text[7] != '-'
        || digits(text + 8, 2, &day) || text[10] != 'T' || digits(text + 11, 2, &hour)
        || text[13] != ':' || digits(text + 14, 2, &min) || text[16] != ':'
        || digits(text + 17, 2, &sec))
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59
        || sec > 60)
        return -1;
    const char *s = text + 19;
    long usec = 0;
    if (*s == '.') {
        long scale = 100000;
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        for (; *s >= '0' && *s <= '9'; s++) {
            usec += (*s - '0') * scale;
            scale /= 10;
        }
    }
    long offset = 0;
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int oh, om;
        if (digits(s + 1, 2, &oh) || s[3] != ':' || digits(s + 4, 2, &om) || oh > 14 || om > 59)
            return -1;
        offset = (oh * 3600L + om * 60L) * (*s == '-' ? -1 : 1);
        s += 6;
    } else {
        return -1;
    }
    if (*s != '\0')
        return -1;
    long long secs = (long long)days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60
        + sec - offset;
    *out = (apr_time_t)secs * APR_USEC_PER_SEC + usec;
    return 0;
}

char *saml_time_format(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", x.tm_year + 1900, x.tm_mon + 1,
                        x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec);
}
