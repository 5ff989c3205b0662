package cri

// ImageService is the image store as the ImageService RPCs need it.
type ImageService interface{}
