# storyd container image: a build stage with the -dev packages and a slim runtime stage.
#   docker build -t storyd:local .
#   docker run --rm -v "$PWD/docker/storyd.conf:/etc/storyd/storyd.conf:ro" storyd:local

# ---- build ---------------------------------------------------------------------------------------
FROM debian:12-slim AS build

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake ninja-build pkg-config \
        librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libpq-dev \
        libjansson-dev libxxhash-dev libutf8proc-dev libxml2-dev libcmocka-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# CMAKE_INSTALL_PREFIX=/usr at configure time too, so that GNUInstallDirs paths (sysconfdir,
# datadir) are computed for /usr; the install goes into /staging, copied whole into the runtime.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    && cmake --build build \
    && DESTDIR=/staging cmake --install build --prefix /usr --strip

# ---- runtime -------------------------------------------------------------------------------------
FROM debian:12-slim

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        librdkafka1 libprotobuf-c1 libuv1 libpq5 libjansson4 libxxhash0 \
        libutf8proc2 libxml2 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 storyd \
    && useradd --system --uid 10001 --gid storyd --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin storyd

COPY --from=build /staging/ /

USER 10001:10001
ENTRYPOINT ["/usr/bin/storyd"]
CMD ["run", "-c", "/etc/storyd/storyd.conf"]
