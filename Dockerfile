# Multi-stage build of the License Manager service.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migration ./migration
COPY src ./src
COPY openapi ./openapi
RUN cargo build --release --locked --bin license-manager

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/license-manager --create-home license-manager
COPY --from=build /src/target/release/license-manager /usr/local/bin/license-manager
USER license-manager
WORKDIR /var/lib/license-manager
ENV LM_BIND=0.0.0.0:8080 LM_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["license-manager"]
CMD ["serve"]
