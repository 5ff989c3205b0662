package cri

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestImageUser(t *testing.T) {
	uid := func(n int64) *int64 { return &n }
	tests := []struct {
		user     string
		uid      *int64
		username string
	}{
		{"", nil, ""},
		{"0", uid(0), ""},
		{"1234:5678", uid(1234), ""},
		{"nobody", nil, "nobody"},
		{"www-data:www-data", nil, "www-data"},
		{"ContainerUser", nil, "ContainerUser"},
		{"-1", nil, "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			gotUID, gotName := imageUser(tt.user)
			assert.Equal(t, tt.uid, gotUID)
			assert.Equal(t, tt.username, gotName)
		})
	}
}
