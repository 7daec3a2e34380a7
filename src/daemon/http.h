/*
 * A small HTTP/1.x server on the loop for health checks: one GET per
 * connection, the answer from a callback, then the connection is closed.
 * Requests are read up to 8 KiB; anything else gets 400, 404 or 405.
 */
#ifndef SD_DAEMON_HTTP_H
#define SD_DAEMON_HTTP_H

#include <stddef.h>
#include <uv.h>

typedef struct hs_server hs_server;

/* The answer to one request: status code, content type and body (copied by the server). */
typedef struct hs_response {
    int status;
    const char *content_type;
    const char *body;
} hs_response;

/* Called for GET path; fills response. path is borrowed for the call. */
typedef void (*hs_handler)(void *user, const char *path, hs_response *response);

/*
 * Listens on address ("127.0.0.1:8089", "[::1]:8089"). Returns NULL with err
 * filled when the address is bad or cannot be bound.
 */
hs_server *hs_new(uv_loop_t *loop, const char *address, hs_handler handler, void *user, char *err,
                  size_t errlen);

/* Stops listening and closes open connections; memory is released on a later loop turn. */
void hs_free(hs_server *server);

#endif
