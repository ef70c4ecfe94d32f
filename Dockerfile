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
COPY requirements.txt requirements.lock pyproject.toml ./
# CPU-only torch first, so nothing pulls a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install -r requirements.lock

COPY . .
RUN pip install --no-deps -e . \
 && python models/sentiment/train.py \
 && useradd --create-home --uid 50000 airflow \
 && mkdir -p /opt/airflow /opt/feedback/data /opt/feedback/reports \
 && chown -R airflow /opt/airflow /opt/feedback

USER airflow
