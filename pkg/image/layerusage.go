package image

// layerUsage is what an unpacked layer occupies.
type layerUsage struct {
	Bytes  int64 `json:"bytes"`
	Inodes int64 `json:"inodes"`
}
