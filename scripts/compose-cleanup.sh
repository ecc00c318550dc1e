#!/bin/sh
# compose-cleanup.sh PROJECT...: remove everything a tskube compose project left behind.
#
#   0. SIGKILL every service of the project first: a controller-manager or kubelet still
#      running would create replacement pods while we remove them, and a container created
#      during its network's removal can leave a stale endpoint behind in Docker
#   1. pod containers the project's kubelets created outside compose (label
#      tskube.cluster=<project>), app containers before their pause (sandbox) containers:
#      removing a sandbox while containers still share its network namespace can also leave
#      a stale endpoint, and the network then cannot be removed ("has active endpoints")
#   2. `docker compose -p <project> down -v --remove-orphans` (services, volumes, network)
#   3. the project's default network, if `down` could not remove it
#   4. the kubelets' pod volume directories, ${TSKUBE_KUBELET_ROOT_BASE:-/var/lib/tskube-kubelet}/<project>,
#      after unmounting the tmpfs mounts of memory-backed volumes that killed kubelets left
#      there (deepest first; nothing is ever deleted through a mount). Written as root by the
#      kubelet containers: when this user cannot unmount or remove them, a throwaway
#      container of the tskube image ($TSKUBE_IMAGE, tskube:dev) with CAP_SYS_ADMIN and the base
#      bound rshared as the kubelets have it, does
#
# Works without the compose file (down by project name uses the containers' labels).
# Idempotent: a project that does not exist is fine. Steps may fail transiently; the exit
# status is non-zero only if something of the project is still there at the end.
set -u

if [ $# -eq 0 ]; then
  echo "usage: $0 PROJECT..." >&2
  exit 2
fi

remove_pods() { # project
  for type in container podsandbox; do
    ids=$(docker ps -aq --filter "label=tskube.cluster=$1" --filter "label=io.kubernetes.docker.type=$type")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1
  done
  ids=$(docker ps -aq --filter "label=tskube.cluster=$1")
  # shellcheck disable=SC2086
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1
}

ROOT_BASE=${TSKUBE_KUBELET_ROOT_BASE:-/var/lib/tskube-kubelet}

# Unmounts every mount at or below $DIR, deepest first, then removes $DIR unless something is
# still mounted there. POSIX sh + awk: it also runs inside the tskube image (busybox).
UNMOUNT_AND_REMOVE='
  mounts() { awk -v d="$DIR" "{ if (\$5 == d || index(\$5, d \"/\") == 1) print length(\$5), \$5 }" /proc/self/mountinfo | sort -rn | cut -d" " -f2-; }
  for mp in $(mounts); do umount "$mp" 2>/dev/null; done
  [ -z "$(mounts)" ] && rm -rf "$DIR" 2>/dev/null
  true'

remove_root_dir() { # project
  [ -n "$1" ] || return 0
  dir="$ROOT_BASE/$1"
  [ -e "$dir" ] || return 0
  DIR=$dir sh -c "$UNMOUNT_AND_REMOVE"
  [ -e "$dir" ] || return 0
  docker run --rm --cap-add SYS_ADMIN --security-opt apparmor=unconfined --mount "type=bind,src=$ROOT_BASE,dst=$ROOT_BASE,bind-propagation=rshared" \
    -e DIR="$dir" --entrypoint sh "${TSKUBE_IMAGE:-tskube:dev}" -c "$UNMOUNT_AND_REMOVE" >/dev/null 2>&1
}

leftovers() { # what of project $1 still exists
  docker ps -aq --filter "label=tskube.cluster=$1"
  docker ps -aq --filter "label=com.docker.compose.project=$1"
  docker network ls -q --filter "label=com.docker.compose.project=$1"
  docker volume ls -q --filter "label=com.docker.compose.project=$1"
  [ ! -e "$ROOT_BASE/$1" ] || echo "$ROOT_BASE/$1"
}

status=0
for project in "$@"; do
  docker compose -p "$project" kill >/dev/null 2>&1
  for _ in 1 2 3; do
    remove_pods "$project"
    docker compose -p "$project" down -v --remove-orphans --timeout 10 >/dev/null 2>&1
    remove_pods "$project"
    for net in $(docker network ls -q --filter "label=com.docker.compose.project=$project") \
               $(docker network ls -q --filter "name=${project}_default"); do
      docker network rm "$net" >/dev/null 2>&1
    done
    remove_root_dir "$project"
    [ -z "$(leftovers "$project")" ] && break
    sleep 2
  done
  if [ -n "$(leftovers "$project")" ]; then
    echo "compose-cleanup: could not remove everything of project $project: $(leftovers "$project" | tr "\n" " ")" >&2
    status=1
  fi
done
exit "$status"
