// Package ingest reads raw sample files and their metadata into Series,
// refusing anything it cannot interpret unambiguously.
package ingest
