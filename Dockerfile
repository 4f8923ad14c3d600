# The production image: web (gunicorn), realtime (uvicorn), worker and beat (celery) all run
# it with different commands; see docker-compose.yml.

# Front-end packages from package-lock.json; only node_modules/ goes on to the image.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --home-dir /app --no-create-home switchboard

WORKDIR /app

# Dependencies first, from the hashed lock, so a code change reuses this layer.
COPY requirements/base.lock requirements/base.lock
RUN pip install --require-hashes --no-deps -r requirements/base.lock

COPY . .
COPY --from=frontend /app/node_modules /app/node_modules

# Static files are collected at build time into the image (whitenoise serves them with
# far-future cache headers). Settings refuse to load with DEBUG off unless production
# values are given, so the build passes throwaway ones: nothing here is kept in the image's
# environment, and the real values come from docker-compose.yml at run time.
RUN DEBUG=false \
    SECRET_KEY=build-only-key-never-used-at-run-time-0123456789abcdefghijklmnop \
    ALLOWED_HOSTS=build.invalid \
    PUBLIC_BASE_URL=https://build.invalid \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R switchboard:switchboard /app/var

USER switchboard

EXPOSE 8000 8001

CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000"]
