# Shell helpers shared by the hack/ scripts. Source it; it defines functions
# and the versions the scripts share, and runs nothing. Every cleanup helper
# touches only what lies under, or was made for, a directory the caller owns,
# because other runtimes may run on the machine.

# cri-tools (crictl, critest): what hack/setup.sh installs for the Linux
# tests and hack/release.sh ships in the Windows release.
CRI_TOOLS_VERSION=v1.37.0

# wait_for SECONDS WHAT COMMAND... retries COMMAND every half second until it
# succeeds; fails after SECONDS.
wait_for() {
	local seconds=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "timed out after ${seconds}s waiting for $what" >&2
			return 1
		fi
		sleep 0.5
	done
}

# stop_pid PID SECONDS sends SIGTERM, then SIGKILL after SECONDS.
stop_pid() {
	local pid=$1 seconds=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < seconds * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# remove_runc_containers DIR force-deletes the runc containers whose bundle
# lies under DIR, in every runc state root a containerd shim uses.
remove_runc_containers() {
	local dir=$1 root id
	command -v runc >/dev/null || return 0
	for root in /run/containerd/runc/*/ /run/runc/; do
		[[ -d "$root" ]] || continue
		runc --root "$root" list 2>/dev/null | awk -v d="$dir" 'NR > 1 && index($4, d) == 1 { print $1 }' |
			while read -r id; do
				echo "cleanup: removing container $id left in $root"
				runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
			done
	done
}

# kill_processes_under DIR kills processes whose command line or working
# directory names DIR (shims started for a runtime rooted there).
kill_processes_under() {
	local dir=$1 p pid cmd cwd
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=
		if [[ $cmd == *"$dir"* || $cwd == "$dir"/* ]]; then
			echo "cleanup: killing process $pid (${cmd:0:80})"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# unmount_under DIR lazily unmounts everything mounted below DIR, deepest
# first (rootfs overlays, netns bind mounts, shm).
unmount_under() {
	local dir=$1 m
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
}

# remove_netfilter_rules_for ID... deletes the iptables rules whose comment
# names one of the container IDs (portmap's DNAT and the bridge plugin's
# masquerade rules carry it), then the chains those rules lived in or jumped
# to, once they are empty and nothing jumps to them.
remove_netfilter_rules_for() {
	(($#)) || return 0
	command -v iptables-save >/dev/null || return 0
	local pattern table rule chain chains removed
	pattern=$(printf '%s|' "$@")
	pattern="(${pattern%|})"
	for table in nat filter mangle; do
		chains=()
		removed=0
		while IFS= read -r rule; do
			removed=$((removed + 1))
			chains+=("$(awk '{print $2}' <<<"$rule")")
			chain=$(sed -n 's/.* -j \(CNI-[^ ]*\).*/\1/p' <<<"$rule")
			[[ -n $chain ]] && chains+=("$chain")
			# iptables-save quotes the comment as the shell would.
			eval "iptables -w -t $table -D ${rule#-A }" 2>/dev/null || true
		done < <(iptables-save -t "$table" 2>/dev/null | grep -E "^-A .*$pattern" || true)
		for chain in $(printf '%s\n' "${chains[@]}" | sort -u); do
			[[ $chain == CNI-* ]] || continue
			if ! iptables-save -t "$table" | grep -qE "^-A $chain |-j $chain( |$)"; then
				iptables -w -t "$table" -X "$chain" 2>/dev/null || true
			fi
		done
		((removed == 0)) || echo "cleanup: removed $removed leftover $table rule(s)"
	done
	return 0
}

# remove_new_shm_segments " ID ... " SIZE removes the unattached System V
# shared memory segments of SIZE bytes that are not in the list taken before.
remove_new_shm_segments() {
	local before=$1 size=$2 id n=0
	command -v ipcrm >/dev/null || return 0
	for id in $(awk -v size="$size" 'NR > 1 && $4 == size && $7 == 0 { print $2 }' /proc/sysvipc/shm 2>/dev/null); do
		[[ $before == *" $id "* ]] && continue
		ipcrm -m "$id" 2>/dev/null && n=$((n + 1))
	done
	((n == 0)) || echo "cleanup: removed $n shared memory segment(s) left by critest"
	return 0
}
