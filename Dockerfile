# Build: docker build -t watchword .   (tested by scripts/docker-test)
# libpq, OpenSSL and SQLite are built from source into the binary: the build stage needs
# only the Rust image's toolchain (C compiler, make, perl), the runtime image only libc.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/watchword /usr/local/bin/watchword

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/watchword watchword \
    && mkdir -p /var/lib/watchword && chown watchword /var/lib/watchword
COPY --from=build /usr/local/bin/watchword /usr/local/bin/watchword
USER watchword
ENV WATCHWORD_LISTEN=0.0.0.0:8080 WATCHWORD_DATA_DIR=/var/lib/watchword
EXPOSE 8080
ENTRYPOINT ["watchword"]
CMD ["serve"]
