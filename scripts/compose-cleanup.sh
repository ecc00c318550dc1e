#!/bin/sh
# compose-cleanup.sh PROJECT...: remove everything a tskube compose project left behind.
#
#   1. pod containers the project's kubelets created outside compose (label
#      tskube.cluster=<project>); they sit on the project's network, so they go first
#   2. `docker compose -p <project> down -v --remove-orphans` (services, volumes, network)
#   3. the project's default network, if `down` could not remove it
#
# Works without the compose file (down by project name uses the containers' labels).
# Idempotent: a project that does not exist is fine. Steps may fail transiently (a kubelet
# still running during `down` starts one more container, so the network is busy); the exit
# status is non-zero only if something of the project is still there at the end.
set -u

if [ $# -eq 0 ]; then
  echo "usage: $0 PROJECT..." >&2
  exit 2
fi

leftovers() { # what of project $1 still exists
  docker ps -aq --filter "label=tskube.cluster=$1"
  docker ps -aq --filter "label=com.docker.compose.project=$1"
  docker network ls -q --filter "label=com.docker.compose.project=$1"
  docker volume ls -q --filter "label=com.docker.compose.project=$1"
}

status=0
for project in "$@"; do
  for _ in 1 2 3; do
    pods=$(docker ps -aq --filter "label=tskube.cluster=$project")
    # shellcheck disable=SC2086
    [ -z "$pods" ] || docker rm -f -v $pods >/dev/null 2>&1
    docker compose -p "$project" down -v --remove-orphans --timeout 10 >/dev/null 2>&1
    # a kubelet still running during `down` may have started one more pod container
    pods=$(docker ps -aq --filter "label=tskube.cluster=$project")
    # shellcheck disable=SC2086
    [ -z "$pods" ] || docker rm -f -v $pods >/dev/null 2>&1
    for net in $(docker network ls -q --filter "label=com.docker.compose.project=$project") \
               $(docker network ls -q --filter "name=${project}_default"); do
      docker network rm "$net" >/dev/null 2>&1
    done
    [ -z "$(leftovers "$project")" ] && break
    sleep 2
  done
  if [ -n "$(leftovers "$project")" ]; then
    echo "compose-cleanup: could not remove everything of project $project: $(leftovers "$project" | tr "\n" " ")" >&2
    status=1
  fi
done
exit "$status"
