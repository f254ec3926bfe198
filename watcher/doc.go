// Package watcher finds the files dropped into watched directories that are
// complete, and hands each version of such a file to the daemon once.
package watcher
