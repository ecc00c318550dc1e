#!/bin/sh
# compose-cleanup.sh PROJECT...: remove everything a tskube compose project left behind.
#
#   1. pod containers the project's kubelets created outside compose (label
#      tskube.cluster=<project>); they sit on the project's network, so they go first
#   2. `docker compose -p <project> down -v --remove-orphans` (services, volumes, network)
#   3. the project's default network, if `down` could not remove it
#
# Works without the compose file (down by project name uses the containers' labels).
# Idempotent: a project that does not exist is fine. Exit status is non-zero only if
# something that exists could not be removed.
set -u

if [ $# -eq 0 ]; then
  echo "usage: $0 PROJECT..." >&2
  exit 2
fi

status=0
for project in "$@"; do
  pods=$(docker ps -aq --filter "label=tskube.cluster=$project")
  if [ -n "$pods" ]; then
    # shellcheck disable=SC2086
    docker rm -f -v $pods >/dev/null || status=1
  fi
  docker compose -p "$project" down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || status=1
  # a kubelet still running during `down` may have started one more pod container
  pods=$(docker ps -aq --filter "label=tskube.cluster=$project")
  if [ -n "$pods" ]; then
    # shellcheck disable=SC2086
    docker rm -f -v $pods >/dev/null || status=1
  fi
  for net in $(docker network ls -q --filter "label=com.docker.compose.project=$project") \
             $(docker network ls -q --filter "name=^${project}_default\$"); do
    docker network rm "$net" >/dev/null 2>&1 || status=1
  done
  if [ "$status" -ne 0 ]; then echo "compose-cleanup: could not remove everything of project $project" >&2; fi
done
exit "$status"
