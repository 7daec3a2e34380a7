#include "daemon/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define REQUEST_MAX 8192

struct hs_server {
    uv_tcp_t listener;
    hs_handler handler;
    void *user;
    int open; /* the listener and the connections still open */
    bool closing;
};

typedef struct hs_conn {
    uv_tcp_t tcp;
    hs_server *server;
    char request[REQUEST_MAX + 1];
    size_t len;
    bool answered;
    uv_write_t write;
    char *response; /* owned while the write is in flight */
} hs_conn;

static void release(hs_server *server)
{
    if (--server->open == 0)
        free(server);
}

static void on_conn_closed(uv_handle_t *handle)
{
    hs_conn *conn = handle->data;
    hs_server *server = conn->server;
    free(conn->response);
    free(conn);
    release(server);
}

static void close_conn(hs_conn *conn)
{
    if (!uv_is_closing((uv_handle_t *)&conn->tcp))
        uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void on_written(uv_write_t *write, int status)
{
    (void)status;
    close_conn(write->data);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static void respond(hs_conn *conn, const hs_response *r)
{
    conn->answered = true;
    uv_read_stop((uv_stream_t *)&conn->tcp);
    size_t body_len = strlen(r->body);
    size_t cap = body_len + 256;
    conn->response = malloc(cap);
    if (!conn->response) {
        close_conn(conn);
        return;
    }
    int head = snprintf(conn->response, cap,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        r->status, reason(r->status), r->content_type, body_len);
    memcpy(conn->response + head, r->body, body_len);
    uv_buf_t buf = uv_buf_init(conn->response, (unsigned)(head + (int)body_len));
    conn->write.data = conn;
    if (uv_write(&conn->write, (uv_stream_t *)&conn->tcp, &buf, 1, on_written) != 0)
        close_conn(conn);
}

static void answer(hs_conn *conn)
{
    char method[8], path[512];
    hs_response r = {400, "text/plain; charset=utf-8", "bad request\n"};
    if (sscanf(conn->request, "%7s %511s HTTP/1.", method, path) != 2) {
        respond(conn, &r);
        return;
    }
    if (strcmp(method, "GET") != 0) {
        r = (hs_response){405, "text/plain; charset=utf-8", "only GET\n"};
        respond(conn, &r);
        return;
    }
    /* The query string does not choose the page. */
    path[strcspn(path, "?")] = '\0';
    r = (hs_response){404, "text/plain; charset=utf-8", "not found\n"};
    conn->server->handler(conn->server->user, path, &r);
    respond(conn, &r);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    hs_conn *conn = handle->data;
    buf->base = conn->request + conn->len;
    buf->len = REQUEST_MAX - conn->len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    hs_conn *conn = stream->data;
    if (conn->answered)
        return;
    if (nread < 0) {
        close_conn(conn);
        return;
    }
    conn->len += (size_t)nread;
    conn->request[conn->len] = '\0';
    if (strstr(conn->request, "\r\n\r\n") || strstr(conn->request, "\n\n")) {
        answer(conn);
    } else if (conn->len >= REQUEST_MAX) {
        hs_response r = {400, "text/plain; charset=utf-8", "request too large\n"};
        respond(conn, &r);
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    hs_server *server = listener->data;
    if (status < 0 || server->closing)
        return;
    hs_conn *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return;
    conn->server = server;
    uv_tcp_init(listener->loop, &conn->tcp);
    conn->tcp.data = conn;
    server->open++;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0)
        close_conn(conn);
}

static void on_listener_closed(uv_handle_t *handle)
{
    release(handle->data);
}

hs_server *hs_new(uv_loop_t *loop, const char *address, hs_handler handler, void *user, char *err,
                  size_t errlen)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host)) {
        snprintf(err, errlen, "storyd.http_listen: '%s' is not host:port", address);
        return NULL;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    int port = atoi(colon + 1);
    struct sockaddr_storage sa;
    int rc;
    if (host[0] == '[') {
        host[strlen(host) - 1] = '\0';
        rc = uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)&sa);
    } else {
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&sa);
    }
    if (rc != 0 || port <= 0 || port > 65535) {
        snprintf(err, errlen, "storyd.http_listen: '%s' is not an IP address and port", address);
        return NULL;
    }
    hs_server *server = calloc(1, sizeof(*server));
    if (!server) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    server->handler = handler;
    server->user = user;
    uv_tcp_init(loop, &server->listener);
    server->listener.data = server;
    server->open = 1;
    rc = uv_tcp_bind(&server->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server->listener, 16, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "storyd.http_listen %s: %s", address, uv_strerror(rc));
        uv_close((uv_handle_t *)&server->listener, on_listener_closed);
        return NULL;
    }
    return server;
}

void hs_free(hs_server *server)
{
    if (!server)
        return;
    server->closing = true;
    uv_close((uv_handle_t *)&server->listener, on_listener_closed);
    /* Open connections finish their one answer and close themselves. */
}
