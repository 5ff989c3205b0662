package isolation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxID is the largest valid uid/gid; (uid_t)-1 means "no change" to the
// kernel and may never be a real id.
const maxID = math.MaxUint32 - 1

type passwdEntry struct {
	name     string
	uid, gid uint32
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// userDB is an image's /etc/passwd and /etc/group. Either may be missing:
// many images (distroless, scratch) have none, and numeric ids still work.
type userDB struct {
	users  []passwdEntry
	groups []groupEntry
}

// loadUserDB reads the user database of the rootfs at root.
func loadUserDB(root string) (*userDB, error) {
	db := &userDB{}
	if data, err := readRootfsFile(root, "/etc/passwd"); err == nil {
		db.users = parsePasswd(data)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading /etc/passwd of the container image: %w", err)
	}
	if data, err := readRootfsFile(root, "/etc/group"); err == nil {
		db.groups = parseGroup(data)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading /etc/group of the container image: %w", err)
	}
	return db, nil
}

// parsePasswd reads name:password:uid:gid:... lines; comments, NIS
// "+"/"-" lines and malformed lines are skipped, as libc does.
func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	for _, f := range dbLines(data, 4) {
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, passwdEntry{name: f[0], uid: uid, gid: gid})
	}
	return out
}

// parseGroup reads name:password:gid:member,member lines.
func parseGroup(data []byte) []groupEntry {
	var out []groupEntry
	for _, f := range dbLines(data, 3) {
		gid, err := parseID(f[2])
		if err != nil {
			continue
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			for _, m := range strings.Split(f[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.members = append(g.members, m)
				}
			}
		}
		out = append(out, g)
	}
	return out
}

func dbLines(data []byte, minFields int) [][]string {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < minFields || f[0] == "" {
			continue
		}
		out = append(out, f)
	}
	return out
}

func parseID(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || v > maxID {
		return 0, fmt.Errorf("%q is not a valid id", s)
	}
	return uint32(v), nil
}

func (db *userDB) userByName(name string) (passwdEntry, bool) {
	for _, u := range db.users {
		if u.name == name {
			return u, true
		}
	}
	return passwdEntry{}, false
}

func (db *userDB) userByID(uid uint32) (passwdEntry, bool) {
	for _, u := range db.users {
		if u.uid == uid {
			return u, true
		}
	}
	return passwdEntry{}, false
}

// groupID resolves the group part of an image's User, a name or a number.
func (db *userDB) groupID(s string) (uint32, error) {
	for _, g := range db.groups {
		if g.name == s {
			return g.gid, nil
		}
	}
	if gid, err := parseID(s); err == nil {
		return gid, nil
	}
	return 0, fmt.Errorf("group %q not found in the image's /etc/group: %w", s, errdefs.ErrInvalidArgument)
}

// memberOf lists the gids of the groups that name user as a member.
func (db *userDB) memberOf(user string) []uint32 {
	var out []uint32
	for _, g := range db.groups {
		for _, m := range g.members {
			if m == user {
				out = append(out, g.gid)
				break
			}
		}
	}
	return out
}

// lookupUser resolves a user name, falling back to a number as Docker
// does for USER.
func (db *userDB) lookupUser(s string) (passwdEntry, error) {
	if u, ok := db.userByName(s); ok {
		return u, nil
	}
	if uid, err := parseID(s); err == nil {
		if u, ok := db.userByID(uid); ok {
			return u, nil
		}
		return passwdEntry{uid: uid}, nil
	}
	return passwdEntry{}, fmt.Errorf("user %q not found in the image's /etc/passwd: %w", s, errdefs.ErrInvalidArgument)
}

// ResolveLinuxUser works out the identity of a container's first process
// the way kubelet and the image define it, reading /etc/passwd and
// /etc/group inside rootfs (never following a link out of it):
//
//   - run_as_user (a uid) or run_as_username (a name that must exist in the
//     image) wins over the image's User ("", uid, name, uid:gid,
//     name:group, ...); the primary group is the user's passwd group, or 0;
//   - run_as_group replaces the primary group and needs one of the above;
//   - the supplementary groups are the primary group, the image groups
//     that list the user (unless the policy is Strict), then the CRI
//     supplemental_groups, without duplicates.
func ResolveLinuxUser(rootfs string, sc *runtimeapi.LinuxContainerSecurityContext, imageUser string) (specs.User, error) {
	if sc.GetRunAsUser() != nil && sc.GetRunAsUsername() != "" {
		return specs.User{}, fmt.Errorf("run_as_user and run_as_username are mutually exclusive: %w", errdefs.ErrInvalidArgument)
	}
	if sc.GetRunAsGroup() != nil && sc.GetRunAsUser() == nil && sc.GetRunAsUsername() == "" {
		return specs.User{}, fmt.Errorf("run_as_group needs run_as_user or run_as_username: %w", errdefs.ErrInvalidArgument)
	}
	db, err := loadUserDB(rootfs)
	if err != nil {
		return specs.User{}, err
	}
	var u passwdEntry
	switch {
	case sc.GetRunAsUser() != nil:
		uid, err := checkedID("run_as_user", sc.GetRunAsUser().GetValue())
		if err != nil {
			return specs.User{}, err
		}
		u, _ = db.userByID(uid)
		u.uid = uid
	case sc.GetRunAsUsername() != "":
		if u, err = db.lookupUser(sc.GetRunAsUsername()); err != nil {
			return specs.User{}, fmt.Errorf("run_as_username: %w", err)
		}
	default:
		name, group, hasGroup := strings.Cut(imageUser, ":")
		if name != "" {
			if u, err = db.lookupUser(name); err != nil {
				return specs.User{}, fmt.Errorf("image user %q: %w", imageUser, err)
			}
		} else {
			u, _ = db.userByID(0)
			u.uid = 0
		}
		if hasGroup {
			if u.gid, err = db.groupID(group); err != nil {
				return specs.User{}, fmt.Errorf("image user %q: %w", imageUser, err)
			}
		}
	}
	if sc.GetRunAsGroup() != nil {
		if u.gid, err = checkedID("run_as_group", sc.GetRunAsGroup().GetValue()); err != nil {
			return specs.User{}, err
		}
	}

	gids := []uint32{u.gid}
	if u.name != "" && sc.GetSupplementalGroupsPolicy() != runtimeapi.SupplementalGroupsPolicy_Strict {
		gids = append(gids, db.memberOf(u.name)...)
	}
	for _, g := range sc.GetSupplementalGroups() {
		gid, err := checkedID("supplemental_groups", g)
		if err != nil {
			return specs.User{}, err
		}
		gids = append(gids, gid)
	}
	return specs.User{UID: u.uid, GID: u.gid, AdditionalGids: dedupIDs(gids)}, nil
}

func checkedID(field string, v int64) (uint32, error) {
	if v < 0 || v > maxID {
		return 0, fmt.Errorf("%s=%d: must be between 0 and %d: %w", field, v, uint32(maxID), errdefs.ErrInvalidArgument)
	}
	return uint32(v), nil
}

func dedupIDs(ids []uint32) []uint32 {
	seen := make(map[uint32]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// CRIUser reports a resolved identity the way ContainerStatus carries it;
// kubelet compares it with what it asked for (SupplementalGroupsPolicy).
func CRIUser(u specs.User) *runtimeapi.ContainerUser {
	groups := make([]int64, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = append(groups, int64(g))
	}
	return &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{
		Uid: int64(u.UID), Gid: int64(u.GID), SupplementalGroups: groups,
	}}
}
