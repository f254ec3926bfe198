// Package sdnotifytest provides a stand-in for the service manager's
// notification socket, for testing code that notifies through package
// sdnotify, or any other sd_notify client, as net/http/httptest does for
// HTTP servers and clients.
package sdnotifytest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Socket stands in for the service manager's notification socket: point
// NOTIFY_SOCKET at the path Start or Listen returns (in the environment of
// a child process, or with t.Setenv), run the code that notifies, and read
// back the datagrams it sent.
//
// The zero value is ready for Listen. A Socket is safe for concurrent use;
// a goroutine drains the socket while it is open, so a chatty sender never
// blocks on a full queue.
type Socket struct {
	conn *net.UnixConn
	path string
	done chan struct{} // closed when the reader returns

	mu      sync.Mutex
	msgs    []string
	marks   int           // sync marks sent by Messages
	seen    int           // sync marks read back
	changed chan struct{} // closed and replaced on every datagram
}

// syncMark starts the datagrams Messages sends itself. No notification
// starts with a NUL byte.
const syncMark = "\x00sync="

// maxSocketPath is the longest path a Linux sockaddr_un takes.
const maxSocketPath = 107

// Start listens on a new Socket in a temporary directory of t and closes
// it when t ends, failing t if it cannot do either. It returns the Socket
// and the path to put in NOTIFY_SOCKET.
func Start(t testing.TB) (*Socket, string) {
	t.Helper()
	s := &Socket{}
	path, err := s.Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// Listen creates the socket as notify.sock in dir, typically t.TempDir(),
// and returns its path. The path must fit a socket address (107 bytes).
func (f *Socket) Listen(dir string) (string, error) {
	if f.conn != nil {
		return "", errors.New("sdnotifytest: already listening")
	}
	path := filepath.Join(dir, "notify.sock")
	if len(path) > maxSocketPath {
		return "", fmt.Errorf("sdnotifytest: path %s is longer than %d bytes", path, maxSocketPath)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return "", fmt.Errorf("sdnotifytest: %w", err)
	}
	f.conn, f.path = conn, path
	f.done = make(chan struct{})
	f.changed = make(chan struct{})
	go f.read()
	return path, nil
}

func (f *Socket) read() {
	defer close(f.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			return // closed
		}
		msg := string(buf[:n])
		f.mu.Lock()
		if strings.HasPrefix(msg, syncMark) {
			f.seen++
		} else {
			f.msgs = append(f.msgs, msg)
		}
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	}
}

// Messages returns every datagram received so far, oldest first. It
// includes every datagram whose send returned before the call.
func (f *Socket) Messages() []string {
	f.sync()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

// sync waits until the reader has consumed everything queued on the socket,
// by sending a mark behind it and waiting for the mark to come back.
func (f *Socket) sync() {
	if f.conn == nil {
		return
	}
	f.mu.Lock()
	f.marks++
	want := f.marks
	f.mu.Unlock()

	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: f.path, Net: "unixgram"})
	if err != nil {
		return // closed: everything there is was read
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(syncMark + strconv.Itoa(want))); err != nil {
		return
	}
	for {
		f.mu.Lock()
		ok, changed := f.seen >= want, f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-f.done:
			return
		}
	}
}

// Wait blocks until a datagram carrying the assignment state, such as
// "READY=1", has been received, and returns ctx's error if ctx ends first.
func (f *Socket) Wait(ctx context.Context, state string) error {
	if f.conn == nil {
		return errors.New("sdnotifytest: not listening")
	}
	for {
		f.mu.Lock()
		found := slices.ContainsFunc(f.msgs, func(m string) bool {
			return slices.Contains(strings.Split(m, "\n"), state)
		})
		changed := f.changed
		f.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-changed:
		case <-f.done:
			return errors.New("sdnotifytest: closed")
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", state, ctx.Err())
		}
	}
}

// Close stops listening and removes the socket file. Messages still returns
// what was received.
func (f *Socket) Close() error {
	if f.conn == nil {
		return nil
	}
	err := f.conn.Close()
	<-f.done
	if rmErr := os.Remove(f.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}
