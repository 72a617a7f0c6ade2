# The wirewatch image: one image, two roles (`wirewatch connect …`, `wirewatch worker`), used by
# deploy/compose.yaml and deploy/k8s. Build from the repository root: docker build -t wirewatch:0.1.0 .
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    WIREWATCH_HOME=/var/lib/wirewatch \
    WIREWATCH_WEB_BIND=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY connectors ./connectors
COPY deploy/feeds ./deploy/feeds
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/wirewatch wirewatch \
    && mkdir -p /var/lib/wirewatch \
    && chown wirewatch /var/lib/wirewatch

USER 10001
# 6066: worker web server (/health, /metrics, desk API); 9108: connector /metrics; 9109: connector WebSub
# callbacks (connect --websub-listen 0.0.0.0:9109, as the compose and k8s files run it)
EXPOSE 6066 9108 9109
ENTRYPOINT ["wirewatch"]
CMD ["worker"]
