# One image recipe for every service: the images differ only in the service they serve (ARG SERVICE).
FROM python:3.11-slim
ARG SERVICE=gateway
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CIVITAS_SERVICE=${SERVICE}
WORKDIR /src
COPY constraints.txt pyproject.toml README.md ./
COPY kernel kernel
COPY services services
COPY src src
RUN pip install --no-cache-dir -c constraints.txt ./kernel ./services/registry ./services/polls \
        ./services/counter ./services/deployer ./services/sync . \
    && useradd --uid 10001 --no-create-home civitas
USER 10001
ENTRYPOINT ["civitas"]
CMD ["serve"]
