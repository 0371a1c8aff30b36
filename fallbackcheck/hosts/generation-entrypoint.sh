#!/bin/sh
# The entrypoint of an engine-generation container: make /sys and the cgroup hierarchies
# writable (Docker mounts them read-only even with systempaths=unconfined), then start
# dockerd (which starts its own containerd) and wait. Podman, ctr, runc and crun are run
# by fallbackcheck through `docker exec` as needed.
set -u
mount -o remount,rw /sys 2>/dev/null || true
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
# The cgroup hierarchies share their superblocks with the host's, so only the mount's own
# read-only flag can change (a plain remount says "busy").
# (Read from /proc/mounts: sid's minimal system has no mountpoint(1).)
while read -r _ mnt fstype _; do
    case "$fstype" in cgroup|cgroup2) mount -o remount,bind,rw "$mnt" 2>/dev/null ;; esac
done </proc/mounts
# crun refuses a hybrid hierarchy whose v2 part has controllers: on these hosts the only v2
# controller is hugetlb, which a v1 mount takes away from v2.
if [ -d /sys/fs/cgroup/unified ] && [ ! -d /sys/fs/cgroup/hugetlb ]; then
    mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null
fi
mkdir -p /run/fbc /var/lib/fbc /etc/containers
# Podman's storage on the generation's volume (overlay works there, not on the container's
# own overlay root), cgroups without systemd, events to a file.
cat >/etc/containers/storage.conf <<'CONF'
[storage]
driver = "overlay"
graphroot = "/var/lib/fbc/podman"
runroot = "/run/fbc-podman"
CONF
cat >/etc/containers/containers.conf <<'CONF'
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
dockerd --host unix:///run/fbc/docker.sock --host unix:///var/run/docker.sock \
    --iptables=false --ip6tables=false --bridge=none --data-root /var/lib/fbc/docker \
    --exec-root /run/docker --add-runtime crun=/usr/bin/crun \
    >/var/log/dockerd.log 2>&1 &
if [ -n "${FBC_SSH_PUBKEY:-}" ]; then
    mkdir -p /root/.ssh /run/sshd && printf '%s\n' "$FBC_SSH_PUBKEY" >/root/.ssh/authorized_keys
    chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys
    ssh-keygen -A >/dev/null 2>&1
    /usr/sbin/sshd -p "${FBC_SSH_PORT:-22}" -o ListenAddress=127.0.0.1 -o PermitRootLogin=prohibit-password \
        -o PasswordAuthentication=no
fi
exec sleep infinity
