package ingest

// SidecarExts are the extensions of a data file's sidecar: <stem>.json or
// <stem>.toml beside it.
var SidecarExts = []string{".json", ".toml"}
