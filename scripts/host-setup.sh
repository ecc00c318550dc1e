#!/bin/sh
# host-setup.sh: prepare the Docker host for the compose stack (root; idempotent; once per boot).
#
# compose.yaml binds the kubelet root base ${TSKUBE_KUBELET_ROOT_BASE:-/var/lib/tskube-kubelet}
# into every kubelet with `propagation: rshared`, so that the tmpfs mounts a kubelet makes for
# memory-backed pod volumes (emptyDir medium: Memory, secret, downwardAPI, projected) show up
# on the host, where Docker bind-mounts them into the pod containers. Docker refuses an rshared
# bind whose source sits on a private mount ("path ... is mounted on / but it is not a shared
# mount"). systemd makes / shared, so most hosts need nothing; on a host whose / is private
# (`findmnt -o PROPAGATION /`) this script makes the base directory a shared mount of its own:
#
#   mount --bind BASE BASE && mount --make-rshared BASE
#
# It leaves / and every other mount alone. The bind mount lasts until reboot: run the script
# again after one (CI runs it every time). Needs the base path without spaces.
#
#   TSKUBE_KUBELET_ROOT_BASE   the directory (default /var/lib/tskube-kubelet; created if missing)
set -eu

BASE=${TSKUBE_KUBELET_ROOT_BASE:-/var/lib/tskube-kubelet}

if [ "$(id -u)" != 0 ]; then
  echo "host-setup.sh: run as root (it mounts $BASE)" >&2
  exit 1
fi

mkdir -p "$BASE"
BASE=$(cd "$BASE" && pwd -P)

# The mountinfo line of the mount holding $1 (the longest mount point that is $1 or above
# it; the last such line wins, as it is mounted on top). Fields: proc(5).
holding_mount() {
  awk -v p="$1" '
    {
      mp = $5
      if (mp == "/" || p == mp || index(p, mp "/") == 1) {
        if (length(mp) >= best) { best = length(mp); line = $0 }
      }
    }
    END { print line }' /proc/self/mountinfo
}

# "shared" when the mount holding $1 is in a shared peer group, else "private".
propagation() {
  holding_mount "$1" | awk '{
    for (i = 7; i <= NF && $i != "-"; i++) if ($i ~ /^shared:/) { print "shared"; exit }
    print "private"
  }'
}

mount_point() {
  holding_mount "$1" | awk '{ print $5 }'
}

if [ "$(propagation "$BASE")" = shared ]; then
  echo "host-setup.sh: $BASE is on a shared mount ($(mount_point "$BASE")): nothing to do"
  exit 0
fi

if [ "$(mount_point "$BASE")" != "$BASE" ]; then
  mount --bind "$BASE" "$BASE"
fi
mount --make-rshared "$BASE"

if [ "$(propagation "$BASE")" != shared ]; then
  echo "host-setup.sh: $BASE is still not a shared mount" >&2
  exit 1
fi
echo "host-setup.sh: $BASE is now a shared mount of its own"
