# syntax=docker/dockerfile:1.19
# Concord production image: one image for the web server, the Celery worker and beat
# (see docker-compose.yml). Configuration comes from the environment at run time
# (.env.example lists it); nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app

# The processes run as this unprivileged user; the code stays owned by root, read-only to it.
RUN groupadd --system --gid 10001 concord \
    && useradd --system --uid 10001 --gid concord --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin concord

# Production requirements only (requirements-dev.txt is for tests and the demo).
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Never copy local state into the image: the virtualenv, a filled-in .env, var/ (the demo
# secret key, embedded database files) or collected static files from a checkout.
COPY --exclude=.git --exclude=.venv --exclude=.env --exclude=var --exclude=staticfiles \
     --exclude=media --exclude=**/__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache \
     . .

# Settings refuse to import without these; the values are throwaway and exist only for
# this one command (collectstatic touches neither the database nor Redis).
RUN CONCORD_ENV=production \
    CONCORD_SECRET_KEY=build-only \
    DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    CONCORD_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input \
    && python -m compileall -q . \
    && mkdir -p var/media var/beat \
    && chown -R concord:concord var

USER concord

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
