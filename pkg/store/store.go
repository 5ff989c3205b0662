// Package store is wincri's persistent state: one bbolt database under
// --root holding pods, containers, images and layers as JSON records.
// Every write is one bbolt transaction, so a crash never leaves half a
// record; the in-memory indexes of the domain packages sit on top.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version of the database. Open refuses a
// database written by a newer wincri.
const SchemaVersion = 1

const (
	metaBucket    = "meta"
	schemaVersion = "schema_version"
)

// Store is the state database.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database at path. It fails fast
// instead of waiting when another process holds the file.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("state database %s is in use by another process: %w", path, errdefs.ErrUnavailable)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// damaged explains a database file bbolt cannot read. wincri then refuses
// to start: starting empty would forget pods whose shims still run.
func damaged(path string, err error) error {
	return fmt.Errorf("state database %s is damaged (%v); wincri will not start without it, because shims may still run the pods it records. "+
		"To recover: stop kubelet, stop any containerd-shim processes started by wincri, move %s aside, and start wincri, "+
		"which starts empty; kubelet then recreates the pods (README: \"A damaged state database\"): %w", path, err, path, errdefs.ErrDataLoss)
}

func (s *Store) checkSchema() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		raw := b.Get([]byte(schemaVersion))
		if raw == nil {
			return b.Put([]byte(schemaVersion), []byte(strconv.Itoa(SchemaVersion)))
		}
		v, err := strconv.Atoi(string(raw))
		if err != nil {
			return fmt.Errorf("state database: corrupt schema version %q", raw)
		}
		if v > SchemaVersion {
			return fmt.Errorf("state database has schema version %d, this wincri understands up to %d: %w", v, SchemaVersion, errdefs.ErrFailedPrecondition)
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Update runs fn in a read-write transaction; an error from fn rolls
// every write of fn back.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx}) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx}) })
}

// Tx is one transaction. Records are JSON values under string keys in
// named buckets, which are created on the first write.
type Tx struct {
	tx *bolt.Tx
}

// Version is the number of the last committed write transaction: it
// changes whenever anything in the store changes, so a cache of decoded
// records is valid while it stays the same.
func (t *Tx) Version() int { return t.tx.ID() }

// Put stores v under key.
func (t *Tx) Put(bucket, key string, v any) error {
	if key == "" {
		return fmt.Errorf("store: empty key in bucket %s: %w", bucket, errdefs.ErrInvalidArgument)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encoding %s/%s: %w", bucket, key, err)
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// Get decodes the record under key into v; a missing record is an
// error wrapping errdefs.ErrNotFound.
func (t *Tx) Get(bucket, key string, v any) error {
	b := t.tx.Bucket([]byte(bucket))
	var raw []byte
	if b != nil {
		raw = b.Get([]byte(key))
	}
	if raw == nil {
		return fmt.Errorf("store: %s/%s: %w", bucket, key, errdefs.ErrNotFound)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decoding %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Delete removes the record under key; a missing one is no error.
func (t *Tx) Delete(bucket, key string) error {
	b := t.tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

// ForEach calls fn for every record of bucket in key order. raw is only
// valid during the call. Writes to the same bucket inside fn are not
// allowed; collect keys first.
func (t *Tx) ForEach(bucket string, fn func(key string, raw []byte) error) error {
	b := t.tx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}

// List decodes every record of bucket and returns them in key
// order.
func List[T any](tx *Tx, bucket string) ([]T, error) {
	var out []T
	err := tx.ForEach(bucket, func(key string, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("store: decoding %s/%s: %w", bucket, key, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
