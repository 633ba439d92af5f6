# syntax=docker/dockerfile:1
# Application image (runtime 2: Python 3.11): action server, adviser console, web chat, Telegram bridge and the
# knowledge-base CLI (migrations). One image, one process per container; the Kubernetes manifests choose the
# command. The default command is the action server.
#
# Build context: the repository root, with BuildKit (it reads Dockerfile.app.dockerignore next to this file):
#   docker build -f deploy/docker/Dockerfile.app -t registry.example.org/bo-hessen/app:0.1.0 .
# No secret is baked in: tokens, passwords and the database URL come from the environment at run time.

# --- dependencies from uv.lock (without the dev group, without building the project itself) ----------------
FROM python:3.11-slim-bookworm AS deps
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN pip install uv==0.13.9
WORKDIR /build
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache --python /usr/local/bin/python3.11

# --- runtime ----------------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    HOME=/tmp
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY core/ core/
COPY knowledge_base/ knowledge_base/
COPY handoff/ handoff/
COPY actions/ actions/
COPY channels/ channels/
COPY migrations/ migrations/
COPY bot/ bot/
# the broad topic intents' training examples: anchors of the FAQ retrieval (actions/faq_index.py)
COPY nlu_data/ nlu_data/
# Byte code compiled at build time: the containers run with a read-only root file system.
RUN python -m compileall -q core knowledge_base handoff actions channels migrations
USER 10001:10001
# action server, console, web chat, Telegram bridge
EXPOSE 5055 8000 8080 8081
CMD ["python", "-m", "actions.server"]
