/* Logging: one line per event to stderr, "LEVEL component: message". */
#ifndef MC_BASE_LOG_H
#define MC_BASE_LOG_H

enum mc_log_level { MC_LOG_DEBUG, MC_LOG_INFO, MC_LOG_WARN, MC_LOG_ERROR };

void mc_log_set_level(enum mc_log_level level);
void mc_log(enum mc_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define mc_log_info(c, ...) mc_log(MC_LOG_INFO, c, __VA_ARGS__)
#define mc_log_warn(c, ...) mc_log(MC_LOG_WARN, c, __VA_ARGS__)
#define mc_log_error(c, ...) mc_log(MC_LOG_ERROR, c, __VA_ARGS__)
#define mc_log_debug(c, ...) mc_log(MC_LOG_DEBUG, c, __VA_ARGS__)

#endif
