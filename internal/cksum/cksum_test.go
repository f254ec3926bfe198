package cksum

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The checksum is POSIX cksum's: compared with the cksum command on
// lengths around the 16-byte step and the byte-count encoding.
func TestMatchesCksumCommand(t *testing.T) {
	path, err := exec.LookPath("cksum")
	if err != nil {
		t.Skip("no cksum command")
	}
	for _, n := range []int{0, 1, 15, 16, 17, 255, 256, 257, 65536 + 3} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i*7 + i>>8)
		}
		cmd := exec.Command(path)
		cmd.Stdin = bytes.NewReader(p)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		want, err := strconv.ParseUint(strings.Fields(string(out))[0], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		if got := Sum(p); got != uint32(want) {
			t.Errorf("%d bytes: got %d, cksum says %d", n, got, want)
		}
		var d Digest
		for q := p; len(q) > 0; q = q[min(len(q), 5):] {
			d.Write(q[:min(len(q), 5)])
		}
		if d.Sum32() != Sum(p) {
			t.Errorf("%d bytes written in pieces: %d, want %d", n, d.Sum32(), Sum(p))
		}
	}
}
