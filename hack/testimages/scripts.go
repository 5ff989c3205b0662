package main

// The servers of the upstream test images are stood in for by busybox httpd
// behind small scripts. Each script stays the container's main process and
// traps SIGTERM, so that a container stops at once instead of waiting for
// the stop timeout as a signal-ignoring PID 1 would.

// nginxScript answers for /usr/sbin/nginx. critest checks three things about
// nginx: the process is called nginx (pidof), its pid is in
// /var/run/nginx.pid, and /proc/1/cmdline says "master process". A shell
// script run by path keeps the script's name as the process name; the
// re-exec puts "master process" into its arguments.
const nginxScript = `#!/bin/sh
case "$1" in
master) shift 2 ;;
*) exec "$0" master process "$@" ;;
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
