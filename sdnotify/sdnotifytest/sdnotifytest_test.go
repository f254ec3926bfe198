package sdnotifytest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/sdnotify/sdnotifytest"
)

// open starts a Socket and returns it with a connection to it, as a
// notifying process would hold.
func open(t *testing.T) (*sdnotifytest.Socket, *net.UnixConn) {
	t.Helper()
	s, path := sdnotifytest.Start(t)
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, conn
}

func send(t *testing.T, conn *net.UnixConn, msg string) {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func TestWait(t *testing.T) {
	s, conn := open(t)
	go func() {
		time.Sleep(10 * time.Millisecond)
		conn.Write([]byte("STATUS=starting"))
		conn.Write([]byte("STATUS=up\nREADY=1"))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Wait(ctx, "READY=1"); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Wait(short, "STOPPING=1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait for STOPPING=1: got %v, want a timeout", err)
	}
	// A state is a whole line of a datagram, not a part of one.
	if err := s.Wait(short, "READY"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait for READY: got %v, want a timeout", err)
	}
}

// TestManyMessages sends more datagrams than a socket queues
// (net.unix.max_dgram_qlen, 512 by default) without reading in between.
func TestManyMessages(t *testing.T) {
	s, conn := open(t)
	const count = 2000
	for i := range count {
		send(t, conn, "STATUS="+strconv.Itoa(i))
	}
	msgs := s.Messages()
	if len(msgs) != count {
		t.Fatalf("got %d datagrams, want %d", len(msgs), count)
	}
	for i, m := range msgs {
		if want := "STATUS=" + strconv.Itoa(i); m != want {
			t.Fatalf("datagram %d: got %q, want %q", i, m, want)
		}
	}
}

func TestClose(t *testing.T) {
	var s sdnotifytest.Socket
	if err := s.Wait(context.Background(), "READY=1"); err == nil {
		t.Error("Wait before Listen: got nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close before Listen: %v", err)
	}
	path, err := s.Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(t.TempDir()); err == nil {
		t.Error("a second Listen: got nil, want an error")
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send(t, conn, "READY=1")
	send(t, conn, "STOPPING=1")
	want := []string{"READY=1", "STOPPING=1"}
	if got := s.Messages(); !slices.Equal(got, want) {
		t.Errorf("Messages: got %q, want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket file after Close: %v, want it removed", err)
	}
	if got := s.Messages(); !slices.Equal(got, want) {
		t.Errorf("Messages after Close: got %q, want %q", got, want)
	}
	if err := s.Wait(context.Background(), "WATCHDOG=1"); err == nil {
		t.Error("Wait after Close: got nil, want an error")
	}
}

func TestListenLongPath(t *testing.T) {
	dir := t.TempDir() + "/" + strings.Repeat("d", 100)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var s sdnotifytest.Socket
	if _, err := s.Listen(dir); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("got %v, want an error saying the path is too long", err)
	}
}
