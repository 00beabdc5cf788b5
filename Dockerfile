# idlemarket: one image for the API, the migration job, the Celery worker and Celery beat.
# The services way of running is described in docs/services.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IDLEMARKET_HOME=/var/lib/idlemarket \
    MEDIA_ROOT=/var/lib/idlemarket/media

# A non-root user; only IDLEMARKET_HOME (local files, photos, beat's schedule) is writable.
# The media directory exists in the image with this owner so that a named volume mounted
# there starts out writable by the user.
RUN groupadd --system --gid 10001 idlemarket \
 && useradd --system --uid 10001 --gid idlemarket --home-dir /var/lib/idlemarket \
        --no-create-home --shell /usr/sbin/nologin idlemarket \
 && mkdir -p /var/lib/idlemarket/media \
 && chown -R idlemarket:idlemarket /var/lib/idlemarket

WORKDIR /app

# Layer cache: install the runtime dependencies (not the dev extra) from pyproject.toml
# alone, so that editing source code does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the code (the packages listed in [tool.setuptools.packages.find]) and the project.
COPY api ./api
COPY catalog ./catalog
COPY indexer ./indexer
COPY ranking ./ranking
COPY worker ./worker
RUN pip install --no-deps . \
 && rm -rf build

USER idlemarket

EXPOSE 8000

CMD ["idlemarket", "serve", "--host", "0.0.0.0", "--port", "8000"]
