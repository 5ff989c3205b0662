// Package pause is the process that holds a Linux pod's namespaces when
// no sandbox image is configured: it sleeps until told to stop and, as
// the pod's init process, reaps orphaned children.
package pause
