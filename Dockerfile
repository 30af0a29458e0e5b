# Builder: compiles the engine kernels (Cython, gcc) into a wheel for a portable x86-64 target.
FROM python:3.11-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY schemas schemas
COPY compute compute
COPY infra infra
COPY ingest ingest
COPY synth synth
COPY live live
COPY replay replay
COPY analytics analytics
COPY ops ops
COPY api api
COPY cli cli
COPY flowtape flowtape
COPY sql sql
COPY web web
ENV FLOWTAPE_MARCH=x86-64-v2
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Runtime: the wheel and its dependencies, no compiler.
FROM python:3.11-slim
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV FLOWTAPE_ENV=production
ENTRYPOINT ["flowtape"]
