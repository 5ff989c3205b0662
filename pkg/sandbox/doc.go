// Package sandbox runs pods and their containers on containerd shim v2
// runtimes: it owns their records, state machines and lifecycle, and
// recovers them after a restart of wincri.
//
// A pod moves through these states; every transition is written to the
// store before it is visible to callers:
//
//	          RunPodSandbox
//	(none) ───────────────▶ Creating ──▶ Ready ──StopPodSandbox / task exit──▶ NotReady
//	                           │                                                 │
//	                           └── failure: undone, record deleted               └── RemovePodSandbox ──▶ (none)
//
// A container:
//
//	           CreateContainer              StartContainer         exit / StopContainer
//	(none) ──▶ Creating ──▶ Created ───────────────────▶ Running ─────────────────────▶ Exited
//	              │            │                                                           │
//	              └─ failure ──┴────────────── RemoveContainer (from any state) ◀──────────┘
//
// Creating is a record of intent: a crash leaves it behind, and recovery
// undoes whatever the interrupted request had done.
package sandbox
