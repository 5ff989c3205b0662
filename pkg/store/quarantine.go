package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// quarantineBucket keeps the records that no longer decode, under
// "bucket/key", so that one damaged record never stops wincri from
// recovering the others, and nothing is deleted that an operator may
// want to look at.
const quarantineBucket = "quarantine"

// Quarantined is a record moved aside because it did not decode.
type Quarantined struct {
	Bucket string    `json:"bucket"`
	Key    string    `json:"key"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// Raw is the record as it was stored.
	Raw []byte `json:"raw"`
}

// Load decodes every record of bucket, in key order, for a start-up
// recovery. A record that does not decode is moved to the quarantine
// bucket in the same transaction and returned in bad; the others are
// returned in recs. Only a database failure is an error.
func Load[T any](s *Store, bucket string) (recs []T, bad []Quarantined, err error) {
	err = s.db.Update(func(btx *bolt.Tx) error {
		recs, bad = nil, nil
		b := btx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		err := b.ForEach(func(k, raw []byte) error {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				bad = append(bad, Quarantined{Bucket: bucket, Key: string(k), Reason: err.Error(), At: time.Now().UTC(), Raw: append([]byte(nil), raw...)})
				return nil
			}
			recs = append(recs, v)
			return nil
		})
		if err != nil {
			return err
		}
		for _, q := range bad {
			if err := moveToQuarantine(btx, b, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: loading %s: %w", bucket, err)
	}
	return recs, bad, nil
}

// QuarantinedRecords returns the records in quarantine, in key order.
func (s *Store) QuarantinedRecords() ([]Quarantined, error) {
	var out []Quarantined
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = List[Quarantined](tx, quarantineBucket)
		return err
	})
	return out, err
}

// QuarantinedCount is the number of records in quarantine.
func (s *Store) QuarantinedCount() int {
	n := 0
	_ = s.db.View(func(btx *bolt.Tx) error {
		if b := btx.Bucket([]byte(quarantineBucket)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}

// Quarantine moves the record under key to the quarantine bucket, with
// the reason: for a record that decodes but that its owner cannot use.
func (s *Store) Quarantine(bucket, key, reason string) (Quarantined, error) {
	q := Quarantined{Bucket: bucket, Key: key, Reason: reason, At: time.Now().UTC()}
	err := s.db.Update(func(btx *bolt.Tx) error {
		b := btx.Bucket([]byte(bucket))
		var raw []byte
		if b != nil {
			raw = b.Get([]byte(key))
		}
		if raw == nil {
			return fmt.Errorf("store: %s/%s: %w", bucket, key, errdefs.ErrNotFound)
		}
		q.Raw = append([]byte(nil), raw...)
		return moveToQuarantine(btx, b, q)
	})
	return q, err
}

// leftoverPrefix marks quarantine entries for things on disk rather than
// records: Bucket is leftoverPrefix+kind, Key the path.
const leftoverPrefix = "leftover:"

// QuarantineLeftover records that path, a leftover of kind ("layer": a
// directory an interrupted unpack left) could not be removed, for reason.
// Its owner carries on without it and retries later; the entry is listed
// and counted with the quarantined records until ReleaseLeftover. A
// second call for the same path updates the entry.
func (s *Store) QuarantineLeftover(kind, path, reason string) error {
	q := Quarantined{Bucket: leftoverPrefix + kind, Key: path, Reason: reason, At: time.Now().UTC()}
	data, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return s.db.Update(func(btx *bolt.Tx) error {
		qb, err := btx.CreateBucketIfNotExists([]byte(quarantineBucket))
		if err != nil {
			return err
		}
		return qb.Put([]byte(q.Bucket+"/"+q.Key), data)
	})
}

// ReleaseLeftover drops the quarantine entry of a leftover that is gone
// now; none is no error.
func (s *Store) ReleaseLeftover(kind, path string) error {
	return s.db.Update(func(btx *bolt.Tx) error {
		qb := btx.Bucket([]byte(quarantineBucket))
		if qb == nil {
			return nil
		}
		return qb.Delete([]byte(leftoverPrefix + kind + "/" + path))
	})
}

// moveToQuarantine stores q in the quarantine bucket and deletes the
// record from b, in the caller's transaction.
func moveToQuarantine(btx *bolt.Tx, b *bolt.Bucket, q Quarantined) error {
	qb, err := btx.CreateBucketIfNotExists([]byte(quarantineBucket))
	if err != nil {
		return err
	}
	data, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("store: encoding quarantined %s/%s: %w", q.Bucket, q.Key, err)
	}
	if err := qb.Put([]byte(q.Bucket+"/"+q.Key), data); err != nil {
		return err
	}
	return b.Delete([]byte(q.Key))
}
