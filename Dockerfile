# Build: docker build -t watchword .
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/watchword /usr/local/bin/watchword

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/watchword watchword \
    && mkdir -p /var/lib/watchword && chown watchword /var/lib/watchword
COPY --from=build /usr/local/bin/watchword /usr/local/bin/watchword
USER watchword
ENV WATCHWORD_LISTEN=0.0.0.0:8080 WATCHWORD_DATA_DIR=/var/lib/watchword
EXPOSE 8080
ENTRYPOINT ["watchword"]
CMD ["serve"]
