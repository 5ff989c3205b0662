package main

// The servers of the upstream test images are stood in for by busybox httpd
// behind small scripts. Each script stays the container's main process and
// traps SIGTERM, so that a container stops at once instead of waiting for
// the stop timeout as a signal-ignoring PID 1 would.

// Applets of upstream busybox that Debian's busybox lacks, as scripts over
// /proc. critest runs `pgrep sleep || true` and wants nothing on stderr, and
// `ipcs -m` to see the shared memory of the pod's IPC namespace.
var appletStandIns = map[string]string{
	"pgrep": pgrepScript,
	"ipcs":  ipcsScript,
}

const pgrepScript = `#!/bin/sh
# pgrep [-f] PATTERN: prints the PIDs of the processes whose name (or, with
# -f, whole command line) matches the extended regular expression PATTERN;
# exits 1 when none does.
full=
if [ "$1" = -f ]; then
	full=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: pgrep [-f] PATTERN" >&2
	exit 2
fi
found=1
for dir in /proc/[0-9]*; do
	pid=${dir#/proc/}
	[ "$pid" = $$ ] && continue
	if [ -n "$full" ]; then
		what=$(tr '\0' ' ' 2>/dev/null <"$dir/cmdline") || continue
	else
		read -r what 2>/dev/null <"$dir/comm" || continue
	fi
	if echo "$what" | grep -Eq -- "$1"; then
		echo "$pid"
		found=0
	fi
done
exit $found
`

const ipcsScript = `#!/bin/sh
# ipcs [-m] [-q] [-s] [-a]: lists the System V IPC objects of this IPC
# namespace from /proc/sysvipc, in ipcs's layout.
show() {
	title=$1 file=$2 header=$3
	echo
	echo "------ $title --------"
	echo "$header"
	[ -r "$file" ] || return 0
	awk -v kind="$title" 'NR > 1 {
		key = $1 < 0 ? $1 + 4294967296 : $1
		if (kind ~ /Shared/) printf "0x%08x %-10s %-10s %-10s %-10s %-6s\n", key, $2, $8, $3, $4, $7
		else if (kind ~ /Semaphore/) printf "0x%08x %-10s %-10s %-10s %-10s\n", key, $2, $5, $3, $4
		else printf "0x%08x %-10s %-10s %-10s %-12s %-10s\n", key, $2, $8, $3, $4, $5
	}' "$file"
}
m= q= s=
[ $# -eq 0 ] && m=1 q=1 s=1
for arg in "$@"; do
	case "$arg" in
	-m) m=1 ;;
	-q) q=1 ;;
	-s) s=1 ;;
	-a) m=1 q=1 s=1 ;;
	*) echo "ipcs: unsupported option $arg" >&2; exit 1 ;;
	esac
done
[ -n "$q" ] && show "Message Queues" /proc/sysvipc/msg "key        msqid      owner      perms      used-bytes   messages"
[ -n "$m" ] && show "Shared Memory Segments" /proc/sysvipc/shm "key        shmid      owner      perms      bytes      nattch"
[ -n "$s" ] && show "Semaphore Arrays" /proc/sysvipc/sem "key        semid      owner      perms      nsems"
exit 0
`

// nginxScript answers for /usr/sbin/nginx. critest checks three things about
// nginx: the process is called nginx (pidof), its pid is in
// /var/run/nginx.pid, and /proc/1/cmdline says "master process" (grep
// matches within one argument only). A shell script run by path keeps the
// script's name as the process name; the re-exec adds that argument.
const nginxScript = `#!/bin/sh
case "$1" in
"master process") shift ;;
*) exec "$0" "master process" "$@" ;;
esac
port=$(sed -n 's/^[[:space:]]*listen[[:space:]]*\([0-9][0-9]*\).*/\1/p' /etc/nginx/conf.d/default.conf | head -n 1)
child=
trap 'kill $child 2>/dev/null; rm -f /var/run/nginx.pid; exit 0' TERM INT QUIT
echo $$ > /var/run/nginx.pid
httpd -f -p "${port:-80}" -h /usr/share/nginx/html &
child=$!
wait $child
`

// nginxConf is the part of nginx's configuration the script reads.
const nginxConf = `server {
    listen       %d;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
`

const nginxIndex = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1></body>
</html>
`

// httpdScript answers for httpd-foreground. critest expects the word httpd
// in the container's log.
const httpdScript = `#!/bin/sh
child=
trap 'kill $child 2>/dev/null; exit 0' TERM INT
echo "httpd: serving /usr/local/apache2/htdocs on port 80"
httpd -f -p 80 -h /usr/local/apache2/htdocs &
child=$!
wait $child
`

const httpdIndex = "<html><body><h1>It works!</h1></body></html>\n"

// pauseScript answers for /pause: sleep until told to stop, leaving no
// child behind.
const pauseScript = `#!/bin/sh
child=
trap 'kill $child 2>/dev/null; exit 0' TERM INT
while :; do
	sleep 3600 &
	child=$!
	wait $child
done
`
