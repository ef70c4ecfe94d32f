# Image for the Airflow services in docker-compose.yml: Airflow 3 + this project.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GX_ANALYTICS_ENABLED=false \
    TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" \
    AIRFLOW_HOME=/opt/airflow \
    FEEDBACK_HOME=/opt/feedback

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential git make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/feedback
# The same install path as `make install` and CI: scripts/install.sh (hashed lock, torch CPU first).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY pyproject.toml requirements.lock README.md ./
COPY scripts/ scripts/
COPY pipelines/ pipelines/
COPY benchmarks/ benchmarks/
RUN TORCH_INDEX_URL=$TORCH_INDEX_URL scripts/install.sh /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY . .
# The default sentiment model is part of the image. Folders that docker-compose.yml mounts as named
# volumes (warehouse, theme models, reports, GX uncommitted, logs) are created here owned by uid 50000,
# so a fresh volume starts writable by the airflow user.
RUN python models/sentiment/train.py \
 && python models/privacy/train_names.py \
 && useradd --create-home --uid 50000 --gid 0 airflow \
 && mkdir -p /opt/airflow/logs /opt/feedback/data /opt/feedback/reports /opt/feedback/models/themes/build \
    /opt/feedback/great_expectations/gx/uncommitted \
 && chown -R 50000:0 /opt/airflow /opt/feedback

USER 50000
EXPOSE 8080
# `command: scheduler` in docker-compose.yml runs `airflow scheduler`; airflow is PID 1, so it gets SIGTERM.
ENTRYPOINT ["airflow"]
CMD ["version"]
