#!/bin/sh
# Entrypoint of every TensorKart image: unset variables that are set but empty, so that
# `${VAR:-}` in docker-compose.yml / .env means "not configured" (pydantic-settings would
# otherwise read "" as a value, e.g. an empty TLS path), then run the command.
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=$/\1/p'); do
  unset "$name"
done
exec "$@"
