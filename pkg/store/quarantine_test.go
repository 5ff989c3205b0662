package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// putRaw writes bytes as they are, as a damaged disk or an older, buggy
// wincri would have.
func putRaw(t *testing.T, s *Store, bucket, key, raw string) {
	t.Helper()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), []byte(raw))
	}))
}

func TestLoadQuarantinesRecordsThatDoNotDecode(t *testing.T) {
	s, _ := open(t)
	putRaw(t, s, "pods", "a", `{"id":"a","count":1}`)
	putRaw(t, s, "pods", "b", `{"id":"b","count":`)
	putRaw(t, s, "pods", "c", `{"id":"c","count":3}`)
	putRaw(t, s, "pods", "d", `{"id":"d","count":"many"}`)

	recs, bad, err := Load[record](s, "pods")
	require.NoError(t, err, "damaged records never fail the load")
	assert.Equal(t, []record{{"a", 1}, {"c", 3}}, recs)
	require.Len(t, bad, 2)
	assert.Equal(t, []string{"b", "d"}, []string{bad[0].Key, bad[1].Key})
	assert.Equal(t, `{"id":"b","count":`, string(bad[0].Raw))
	assert.NotEmpty(t, bad[0].Reason)
	assert.Equal(t, 2, s.QuarantinedCount())

	// Moved, not copied: the next start loads cleanly and the quarantine
	// keeps the originals.
	recs, bad, err = Load[record](s, "pods")
	require.NoError(t, err)
	assert.Len(t, recs, 2)
	assert.Empty(t, bad)
	q, err := s.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, q, 2)
	assert.Equal(t, "pods", q[0].Bucket)
	assert.Equal(t, `{"id":"d","count":"many"}`, string(q[1].Raw))
}

func TestLoadOfAMissingBucket(t *testing.T) {
	s, _ := open(t)
	recs, bad, err := Load[record](s, "nothing")
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.Empty(t, bad)
	assert.Zero(t, s.QuarantinedCount())
}

// TestOpenRefusesADamagedFile: a file bbolt cannot read stops the start
// with a message naming the file and the way out; it is never replaced by
// an empty database.
func TestOpenRefusesADamagedFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content func(valid []byte) []byte
	}{
		{name: "garbage", content: func([]byte) []byte { return []byte(strings.Repeat("not a database ", 2000)) }},
		{name: "meta pages overwritten", content: func(valid []byte) []byte {
			out := append([]byte(nil), valid...)
			for i := 16; i < 2*4096 && i < len(out); i++ {
				out[i] ^= 0x5a
			}
			return out
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			s, err := Open(path)
			require.NoError(t, err)
			require.NoError(t, s.Update(func(tx *Tx) error { return tx.Put("pods", "a", record{"a", 1}) }))
			require.NoError(t, s.Close())
			valid, err := os.ReadFile(path)
			require.NoError(t, err)
			damagedBytes := tc.content(valid)
			require.NoError(t, os.WriteFile(path, damagedBytes, 0o600))

			_, err = Open(path)
			require.Error(t, err)
			assert.True(t, errdefs.IsDataLoss(err), "%v", err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), "move "+path+" aside")
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, damagedBytes, after, "the damaged file is left as it was")
		})
	}
}

func TestQuarantineARecordItsOwnerCannotUse(t *testing.T) {
	s, _ := open(t)
	putRaw(t, s, "pods", "a", `{"id":"a","count":1}`)
	q, err := s.Quarantine("pods", "a", "its config does not decode")
	require.NoError(t, err)
	assert.Equal(t, `{"id":"a","count":1}`, string(q.Raw))
	recs, _, err := Load[record](s, "pods")
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.Equal(t, 1, s.QuarantinedCount())
	_, err = s.Quarantine("pods", "a", "again")
	assert.True(t, errdefs.IsNotFound(err), "%v", err)
}

// A leftover on disk that cannot be removed (a layer directory a crash
// left half-written and Windows holds open) goes to the same quarantine as
// a record: listed, counted, and released once a retry removes it.
func TestQuarantineALeftoverOnDisk(t *testing.T) {
	s, _ := open(t)
	const dir = `C:\ProgramData\wincri\root\images\layers\abc`
	require.NoError(t, s.QuarantineLeftover("layer", dir, "the process cannot access the file"))
	require.NoError(t, s.QuarantineLeftover("layer", dir, "access is denied"), "a retry that fails again updates the entry")
	recs, err := s.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "leftover:layer", recs[0].Bucket)
	assert.Equal(t, dir, recs[0].Key)
	assert.Equal(t, "access is denied", recs[0].Reason)
	assert.Equal(t, 1, s.QuarantinedCount())

	require.NoError(t, s.ReleaseLeftover("layer", dir))
	require.NoError(t, s.ReleaseLeftover("layer", dir), "releasing what is not there is no error")
	assert.Equal(t, 0, s.QuarantinedCount())
}
