/*
 * The systemd notify protocol (sd_notify(3)), written here rather than linked
 * from libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or an abstract name starting with '@').
 * Without $NOTIFY_SOCKET every call does nothing, so storyd behaves the same
 * under systemd and outside it.
 */
#ifndef SD_DAEMON_NOTIFY_H
#define SD_DAEMON_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sn_notifier sn_notifier;

/*
 * Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once. Returns NULL
 * only when out of memory; a missing or unusable socket gives a notifier that
 * sends nothing (sn_enabled says which). Free with sn_free.
 */
sn_notifier *sn_new(void);
void sn_free(sn_notifier *notifier);

/* True when $NOTIFY_SOCKET named a socket. */
bool sn_enabled(const sn_notifier *notifier);

/*
 * The watchdog interval systemd asked for ($WATCHDOG_USEC, for this process
 * when $WATCHDOG_PID names it), in microseconds; 0 when there is none.
 */
uint64_t sn_watchdog_usec(const sn_notifier *notifier);

/*
 * Sends one message, printf-style ("READY=1\nSTATUS=..."). Returns 0, or -1
 * when it could not be sent (the error is logged once, not on every call).
 */
int sn_send(sn_notifier *notifier, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
