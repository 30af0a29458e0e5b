FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY ingest ingest
COPY compute compute
COPY replay replay
COPY api api
COPY infra infra
COPY sql sql
COPY web web
RUN pip install --no-cache-dir .
ENV FLOWTAPE_ENV=production
ENTRYPOINT ["flowtape"]
