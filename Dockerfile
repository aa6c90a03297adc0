# syntax=docker/dockerfile:1
# threads-scheduler: one image for the web app and the worker; the command picks which
# (`serve`, the default, or `worker`). See docs/deploy.md.

ARG PYTHON_VERSION=3.11

# --- build: a virtualenv with the project and its dependencies (wheels only, no compilers) ---
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, from pyproject.toml alone: this layer is reused until they change.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
COPY scheduler ./scheduler
COPY graphql_api ./graphql_api
COPY web ./web
COPY templates ./templates
COPY static ./static
# Not editable: the wheel carries templates/ and static/ inside the `web` package.
RUN pip install --no-deps . && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# --- runtime: the virtualenv on a slim Python, as an unprivileged user ---
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --create-home \
        --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /healthz does no I/O: it says the web process answers. Workers are checked by compose on their
# metrics port instead (WORKER_METRICS_PORT), and /readyz tells whether the whole system is up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["threads-scheduler"]
CMD ["serve"]
