package dropdir

import (
	"slices"
	"testing"
)

func TestIsSidecar(t *testing.T) {
	for path, want := range map[string]bool{
		"/d/a.json": true, "/d/a.toml": true, "/d/a.JSON": true, "/d/a.Toml": true,
		"/d/a.npy": false, "/d/json": false, "/d/a.json.gz": false, "/d/a": false,
	} {
		if got := IsSidecar(path); got != want {
			t.Errorf("IsSidecar(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestSidecars(t *testing.T) {
	if got, want := Sidecars(Stem("/d/x.y.npy")), []string{"/d/x.y.json", "/d/x.y.toml"}; !slices.Equal(got, want) {
		t.Errorf("Sidecars = %q, want %q", got, want)
	}
}

func TestOwner(t *testing.T) {
	type w struct {
		dir string
		rec bool
	}
	ws := []w{{"/a", true}, {"/a/b", false}, {"/c", false}, {"/", false}}
	at := func(x *w) (string, bool) { return x.dir, x.rec }
	for dir, want := range map[string]string{
		"/a": "/a", "/a/x/y": "/a", "/a/b": "/a/b", "/a/b/c": "/a", "/c": "/c",
		"/c/d": "", "/ab": "", "/": "/", "/e": "",
	} {
		got := ""
		if o := Owner(ws, dir, at); o != nil {
			got = o.dir
		}
		if got != want {
			t.Errorf("Owner(%q) = %q, want %q", dir, got, want)
		}
	}
	if !Covers("/", true, "/x/y") || Covers("/", true, "/") == false || Covers("/x", true, "/xy") {
		t.Error("Covers mishandles the root or a shared prefix")
	}
}
