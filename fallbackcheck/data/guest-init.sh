#!/bin/busybox sh
# fallbackcheck's init inside a kernel host's initramfs (fallbackcheck/artefacts/kernels.py packs it,
# fallbackcheck/runtimes/kernel.py boots it). It loads the 9p modules, mounts the host's
# work share and runs the boot script the host wrote there; then powers off. Anything it
# cannot do is one line on the console (ttyS0, kept by the host) and a power-off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do
    insmod "/modules/$module" || echo "fbc-init: insmod $module failed"
done < /modules/order
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 work /work; then
    sh /work/boot.sh > /work/boot.log 2>&1
    echo "fbc-init: boot script exited $?"
else
    echo "fbc-init: cannot mount the work share"
fi
sync
poweroff -f
