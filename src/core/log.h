/* One-line log messages on stderr, each stamped with UTC time and a level. */
#ifndef QUERYD_LOG_H
#define QUERYD_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
