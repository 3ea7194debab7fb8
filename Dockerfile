# chgate in a container: build on Debian 12 with Debian's packages only, run
# on debian:12-slim as an unprivileged user.
#
#   docker build -t chgate .
#   docker run -p 8080:8080 -e CLICKHOUSE_URL=http://clickhouse:8123 \
#       -e CHGATE_TOKEN="$(openssl rand -hex 32)" -v chgate-data:/var/lib/chgate chgate
#
# In a container chgate listens on 0.0.0.0, so it needs a token (CHGATE_TOKEN,
# sent by apps as "Authorization: Bearer <token>"): without one it refuses to
# start, rather than take writes from anyone. Mount a configuration of your
# own for a token per app (see README.md, "Security").
#
# The write-ahead logs, spool and dead letters live in /var/lib/chgate: give it
# a volume, or a durable ack means nothing across a container restart.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libyaml-cpp-dev \
      libcurl4-openssl-dev libssl-dev zlib1g-dev libdeflate-dev libzstd-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
COPY loadtest ./loadtest
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCHGATE_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target chgate chgate-load

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libyaml-cpp0.7 libcurl4 libssl3 libboost-url1.81.0 zlib1g libdeflate0 libzstd1 \
      libprometheus-cpp-core1.0 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/chgate --shell /usr/sbin/nologin chgate \
 && mkdir -p /var/lib/chgate /etc/chgate \
 && chown chgate:chgate /var/lib/chgate
COPY --from=build /src/build/chgate /src/build/loadtest/chgate-load /usr/local/bin/
COPY config/chgate.yaml /etc/chgate/chgate.yaml
COPY config/examples /etc/chgate/examples
# config/chgate.yaml reads these (see README.md, "Configuration").
ENV CHGATE_LISTEN=0.0.0.0:8080 \
    CHGATE_TOKEN= \
    CHGATE_STORAGE_DIR=/var/lib/chgate \
    CLICKHOUSE_URL=http://clickhouse:8123 \
    CLICKHOUSE_USER=default \
    CLICKHOUSE_PASSWORD=
USER chgate
VOLUME /var/lib/chgate
EXPOSE 8080
# /healthz: the process serves HTTP. /readyz (ClickHouse reachable, logs
# replayed, no threshold crossed) is for load balancers and Kubernetes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM drains: stop accepting, answer what is in flight, flush, sync.
STOPSIGNAL SIGTERM
ENTRYPOINT ["chgate", "--config", "/etc/chgate/chgate.yaml"]
