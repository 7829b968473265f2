/* Log lines are formatted whole and written with one call so lines from
 * different worker threads never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void log_line(const char *level, const char *fmt, va_list ap)
{
        char line[2048];
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, now.tv_nsec / 1000000, level);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        line[len++] = '\n';
        (void)!write(STDERR_FILENO, line, len);
}

void log_info(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_line("info", fmt, ap);
        va_end(ap);
}

void log_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_line("warn", fmt, ap);
        va_end(ap);
}

void log_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_line("error", fmt, ap);
        va_end(ap);
}
