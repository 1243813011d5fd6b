/* clock: the shell's only source of time. The core is handed `now_ms` in
 * every event and never reads a clock itself. */
#ifndef ZABD_IO_CLOCK_H
#define ZABD_IO_CLOCK_H
#include <stdint.h>

int64_t clock_wall_ms(void);       /* ms since the Unix epoch (txn times) */
int64_t clock_monotonic_ms(void);  /* ms from an arbitrary origin (timers, session ids) */

#endif
