#include "daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

struct sn_notifier {
    int fd; /* -1: notifications are off */
    struct sockaddr_un address;
    socklen_t address_len;
    uint64_t watchdog_usec;
    bool warned;
};

sn_notifier *sn_new(void)
{
    sn_notifier *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->fd = -1;
    const char *socket_name = getenv("NOTIFY_SOCKET");
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (usec && (!pid || !pid[0] || strtol(pid, NULL, 10) == (long)getpid()))
        n->watchdog_usec = strtoull(usec, NULL, 10);
    if (!socket_name || !socket_name[0])
        return n;
    size_t len = strlen(socket_name);
    if ((socket_name[0] != '/' && socket_name[0] != '@') || len >= sizeof(n->address.sun_path)) {
        sd_log_warning("systemd",
                       "NOTIFY_SOCKET '%s' is neither a path nor an abstract name; "
                       "not notifying",
                       socket_name);
        return n;
    }
    n->address.sun_family = AF_UNIX;
    memcpy(n->address.sun_path, socket_name, len);
    /* An abstract name starts with a NUL byte in the address, and has no terminator. */
    if (socket_name[0] == '@')
        n->address.sun_path[0] = '\0';
    n->address_len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (socket_name[0] == '@' ? 0 : 1));
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (n->fd < 0)
        sd_log_warning("systemd", "notify socket: %s; not notifying", strerror(errno));
    return n;
}

void sn_free(sn_notifier *notifier)
{
    if (!notifier)
        return;
    if (notifier->fd >= 0)
        close(notifier->fd);
    free(notifier);
}

bool sn_enabled(const sn_notifier *notifier)
{
    return notifier && notifier->fd >= 0;
}

uint64_t sn_watchdog_usec(const sn_notifier *notifier)
{
    return notifier ? notifier->watchdog_usec : 0;
}

int sn_send(sn_notifier *notifier, const char *format, ...)
{
    if (!sn_enabled(notifier))
        return 0;
    char message[1024];
    va_list args;
    va_start(args, format);
    int len = vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    if (len < 0)
        return -1;
    if ((size_t)len >= sizeof(message))
        len = (int)sizeof(message) - 1;
    ssize_t sent = sendto(notifier->fd, message, (size_t)len, MSG_NOSIGNAL,
                          (const struct sockaddr *)&notifier->address, notifier->address_len);
    if (sent == len)
        return 0;
    if (!notifier->warned) {
        /* Once: a service manager that went away must not flood the journal. */
        sd_log_warning("systemd", "notify message not sent: %s",
                       sent < 0 ? strerror(errno) : "short write");
        notifier->warned = true;
    }
    return -1;
}
