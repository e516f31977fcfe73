# One image recipe for every service: each image holds the kernel, its service and what that service declares
# (ARG SERVICE), never the site package or a service it does not use; it runs `python -m civitas_$SERVICE`.
FROM python:3.11-slim
ARG SERVICE=gateway
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CIVITAS_SERVICE=${SERVICE}
WORKDIR /src
COPY constraints.txt ./
COPY deploy deploy
COPY kernel kernel
COPY services services
# The deployer drives the real git binary on the live repository; no other service needs it. No bubblewrap: a pod
# cannot make its namespaces, so on Kubernetes a voted maintenance command runs as a Job of its own instead.
RUN if [ "$SERVICE" = deployer ]; then apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*; fi
RUN PIP_NO_CACHE_DIR=1 deploy/install-service "$SERVICE" /tmp/wheels . \
    && rm -rf /tmp/wheels /src \
    && useradd --uid 10001 --no-create-home civitas
WORKDIR /
USER 10001
# The service CIVITAS_SERVICE names (the chart names it again, explicitly).
ENTRYPOINT ["python", "-m", "civitas_kernel.service"]
