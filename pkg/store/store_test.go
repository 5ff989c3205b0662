package store

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

type record struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestPutGetDeleteList(t *testing.T) {
	s, _ := open(t)
	require.NoError(t, s.Update(func(tx *Tx) error {
		for _, r := range []record{{"b", 2}, {"a", 1}} {
			if err := tx.Put("pods", r.ID, r); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(func(tx *Tx) error {
		var r record
		require.NoError(t, tx.Get("pods", "a", &r))
		assert.Equal(t, record{"a", 1}, r)
		err := tx.Get("pods", "zzz", &r)
		assert.True(t, errdefs.IsNotFound(err), "missing key: %v", err)
		err = tx.Get("nobucket", "a", &r)
		assert.True(t, errdefs.IsNotFound(err), "missing bucket: %v", err)
		all, err := List[record](tx, "pods")
		require.NoError(t, err)
		assert.Equal(t, []record{{"a", 1}, {"b", 2}}, all)
		return nil
	}))
	require.NoError(t, s.Update(func(tx *Tx) error {
		require.NoError(t, tx.Delete("pods", "a"))
		require.NoError(t, tx.Delete("pods", "a"), "deleting twice")
		return tx.Delete("nobucket", "x")
	}))
	require.NoError(t, s.View(func(tx *Tx) error {
		all, err := List[record](tx, "pods")
		require.NoError(t, err)
		assert.Equal(t, []record{{"b", 2}}, all)
		return nil
	}))
}

func TestFailedUpdateWritesNothing(t *testing.T) {
	s, _ := open(t)
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		require.NoError(t, tx.Put("containers", "c1", record{"c1", 1}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.View(func(tx *Tx) error {
		var r record
		assert.True(t, errdefs.IsNotFound(tx.Get("containers", "c1", &r)))
		return nil
	}))
}

func TestEmptyKeyIsInvalid(t *testing.T) {
	s, _ := open(t)
	err := s.Update(func(tx *Tx) error { return tx.Put("pods", "", record{}) })
	assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
}

func TestReopenKeepsRecords(t *testing.T) {
	s, path := open(t)
	require.NoError(t, s.Update(func(tx *Tx) error { return tx.Put("images", "sha256:x", record{"x", 7}) }))
	require.NoError(t, s.Close())
	s2, err := Open(path)
	require.NoError(t, err)
	defer s2.Close()
	var r record
	require.NoError(t, s2.View(func(tx *Tx) error { return tx.Get("images", "sha256:x", &r) }))
	assert.Equal(t, 7, r.Count)
}

func TestSecondOpenIsRefused(t *testing.T) {
	_, path := open(t)
	_, err := Open(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use by another process")
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(schemaVersion), []byte("99"))
	}))
	require.NoError(t, db.Close())
	_, err = Open(path)
	require.Error(t, err)
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), "schema version 99")
}
