package provenance_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippet: the Go the README shows is the package Example's, line
// for line and in order.
func TestReadmeSnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section, _, _ := strings.Cut(string(readme[strings.Index(string(readme), "## Writing archives from your own programs"):]), "\n## ")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) != 1 {
		t.Fatalf("the README's section shows %d Go blocks, want 1", len(blocks))
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	example := string(src[strings.Index(string(src), "func Example() {"):])
	for _, line := range strings.Split(strings.TrimSpace(blocks[0][1]), "\n") {
		i := strings.Index(example, "\n\t"+line+"\n")
		if i < 0 {
			t.Fatalf("README line %q is not the next of Example", line)
		}
		example = example[i+len(line)+2:]
	}
}
